// Peak resident memory of the processes a benchmark run involves, from Linux's /proc: VmHWM (the
// high-water mark of RSS) of any process by pid, reset between phases (clear_refs 5) so each phase
// reports its own peak, and the child processes the embedded stack started (found by parent pid).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** The process's peak RSS in MiB since it started or since its last reset; undefined once it is gone. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the process's peak RSS back to its current RSS (Linux 4.0+; a no-op where refused). For the
 * bench process this also resets what process.resourceUsage().maxRSS reads (the same high-water mark).
 */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not ours or not Linux: the peak then covers the process's whole life, which the table says.
  }
}

export interface ChildProcessInfo {
  pid: number;
  /** What it is: `temporal`, `anvil`, `azurite`, else its command name. */
  name: string;
}

/** The direct children of `ppid` (the embedded stack's services are the bench process's children). */
export function childProcesses(ppid: number = process.pid): ChildProcessInfo[] {
  const children: ChildProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const [, ppidField] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppidField) !== ppid) continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      children.push({ pid: Number(entry), name: cmdline.includes('azurite') ? 'azurite' : comm });
    } catch {
      // exited while we looked
    }
  }
  return children;
}
