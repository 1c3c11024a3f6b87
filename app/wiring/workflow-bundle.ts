// The workflow bundle, built in a short-lived child process. Webpack's compilation costs the
// process that runs it some hundreds of MiB that V8 keeps long after the bundle is built; built
// in the worker's own process, it stayed in the resident memory of the API + worker for good.
// Run as a script (`workflow-bundle.ts <workflowsPath> <outFile>`), it builds and writes the bundle.
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundles `workflowsPath` in a child process; resolves to the bundle file's path. */
export async function buildWorkflowBundle(workflowsPath: string): Promise<string> {
  const outFile = join(mkdtempSync(join(tmpdir(), 'tracewell-workflows-')), 'workflow-bundle.js');
  const child = fork(fileURLToPath(import.meta.url), [workflowsPath, outFile], {
    // The child runs this TypeScript file, as the parent does, through tsx.
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bundling the workflows (${workflowsPath}) failed: the bundler exited with ${code}`);
  return outFile;
}

async function bundleToFile(workflowsPath: string, outFile: string): Promise<void> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  // Warnings and errors only: webpack's progress is noise in the parent's output.
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  writeFileSync(outFile, code);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [workflowsPath, outFile] = process.argv.slice(2);
  bundleToFile(workflowsPath!, outFile!).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
