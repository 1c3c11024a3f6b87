// Shows what a long wait is doing (building the Temporal CLI, starting the stack's services): an ora
// spinner with the elapsed time on a terminal; on a log or a pipe (CI, `| tee`) plain lines instead,
// since spinner frames would fill the log: one when the wait begins, one every `plainEvery` notes or
// `plainEveryMs`, whichever comes first, and one when it ends.
import ora from 'ora';

export interface Wait {
  /** What the wait is doing now (e.g. the package being built). */
  note(detail: string): void;
  /** Ends the wait with a success line, the elapsed time appended. */
  succeed(text: string): void;
  /** Ends the wait with a failure line, the elapsed time appended. */
  fail(text: string): void;
}

export interface WaitIndicator {
  begin(text: string): Wait;
}

export interface SpinnerOptions {
  /** On a non-terminal stream, a note line after this many notes (default 50)... */
  plainEvery?: number;
  /** ...or once this long has passed since the last line (default 10 s). */
  plainEveryMs?: number;
  /** Milliseconds; injectable so elapsed times can be checked without waiting. */
  now?: () => number;
}

/** `850 ms`, `12.3 s`, `2 min 05 s`. */
export function formatElapsed(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** Waits shown on `stream`: a spinner when it is an interactive terminal with a width, plain lines otherwise. */
export function spinnerOn(stream: NodeJS.WritableStream, options: SpinnerOptions = {}): WaitIndicator {
  const { plainEvery = 50, plainEveryMs = 10_000, now = () => performance.now() } = options;
  return {
    begin(text) {
      const startedAt = now();
      const elapsed = () => formatElapsed(now() - startedAt);
      let detail = '';
      const spinner = ora({ stream: stream as NodeJS.WriteStream, text });
      // ora sizes its frames by the terminal's width: one that reports none (0 columns, as under
      // `script` or a container's pseudo-terminal before it is sized) would make it clear lines forever.
      if (!((stream as NodeJS.WriteStream).columns > 0)) spinner.isEnabled = false;
      const describe = () => `${text}${detail ? `: ${detail}` : ''} (${elapsed()})`;
      spinner.start();
      // A terminal shows the clock running; a log gets a line now and then.
      const clock = spinner.isEnabled ? setInterval(() => (spinner.text = describe()), 1_000).unref() : undefined;
      let notes = 0;
      let lastLineAt = startedAt;
      const end = (outcome: 'succeed' | 'fail', line: string) => {
        clearInterval(clock);
        spinner[outcome](`${line} (${elapsed()})`);
      };
      return {
        note(next) {
          detail = next;
          notes += 1;
          if (spinner.isEnabled) {
            spinner.text = describe();
          } else if (notes % plainEvery === 0 || now() - lastLineAt >= plainEveryMs) {
            lastLineAt = now();
            stream.write(`  ${describe()}\n`);
          }
        },
        succeed: (line) => end('succeed', line),
        fail: (line) => end('fail', line),
      };
    },
  };
}

/** Only the end of each wait, as a log line: for callers with no terminal of their own (tests, benches). */
export function endLinesTo(log: (line: string) => void): WaitIndicator {
  return {
    begin: () => ({
      note: () => {},
      succeed: (line) => log(line),
      fail: (line) => log(line),
    }),
  };
}
