// Stops a running stack on Ctrl-C / SIGTERM. The embedded services run in their own process groups
// (so their shutdown is ordered, not raced by the terminal's signal); this makes sure they still go.
import { killAllChildrenSync } from '../devstack/process.js';

export function stopOnSignal(stop: () => Promise<void>, log: (line: string) => void = console.error): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllChildrenSync);
}
