// A text progress bar for long CLI operations: redrawn in place on a terminal, printed every tenth
// of the way when the output is a log or a pipe.

export function renderProgress(done: number, total: number, note = '', width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${String(Math.round(share * 100)).padStart(3)}%${note ? `  ${note}` : ''}`;
}

export interface Progress {
  update(done: number, total: number, note?: string): void;
  finish(): void;
}

export function progressOn(stream: NodeJS.WriteStream): Progress {
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total, note) {
      const line = renderProgress(done, total, note);
      if (stream.isTTY) {
        stream.write(`\r${line}`);
        drawn = true;
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${line}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
