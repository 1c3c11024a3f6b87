// The embedded services of `tracewell dev` and the test suites: the real Temporal dev server,
// anvil and Azurite, each on loopback.
import { copyFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { PART_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { portOpen, startService } from './process.js';
import type { RunningService } from './process.js';

const require = createRequire(import.meta.url);

/** The development mnemonic: anvil funds its accounts; never use it on a real network. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export interface TemporalDevServerOptions {
  cli: string;
  ip: string;
  port: number;
  /** Where the Temporal Web UI is served (the CLI embeds it). */
  uiPort: number;
  /** No Web UI: for the test suite's shared server, which nobody browses. */
  headless?: boolean;
  namespace: string;
  /** SQLite file for durable state; in memory when absent. */
  dbFile?: string;
  logFile?: string;
}

/** The `temporal server start-dev --search-attribute` type names. */
const CLI_ATTRIBUTE_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The URL of the dev server's Web UI. */
export function temporalUiUrl(options: Pick<TemporalDevServerOptions, 'ip' | 'uiPort'>): string {
  return `http://${options.ip}:${options.uiPort}`;
}

/** True once the Web UI answers its page. */
async function uiAnswers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await response.body?.cancel();
  return response.ok;
}

/** The real dev server, with the part workflows' search attributes registered; ready once it (and its UI) answer. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<RunningService> {
  const args = ['server', 'start-dev', ...(options.headless ? ['--headless'] : []), '--ip', options.ip, '--port', String(options.port)];
  args.push('--ui-port', String(options.uiPort), '--namespace', options.namespace, '--log-level', 'warn');
  for (const key of PART_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${CLI_ATTRIBUTE_TYPES[key.type]}`);
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  const address = `${options.ip}:${options.port}`;
  return startService({
    name: 'temporal',
    command: options.cli,
    args,
    logFile: options.logFile,
    readyTimeoutMs: 60_000,
    ready: async () => {
      if (!(await portOpen(options.ip, options.port))) return false;
      if (!options.headless && !(await uiAnswers(temporalUiUrl(options)))) return false;
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
  });
}

/** The anvil binary shipped by @foundry-rs/anvil's platform package. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platform = process.platform === 'win32' ? 'win32' : process.platform;
  const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`);
  return join(pkg, '..', 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
}

export interface AnvilOptions {
  port: number;
  mnemonic?: string;
  /** File the chain state is loaded from and dumped to, so the chain survives a restart. */
  stateFile?: string;
  logFile?: string;
  chainId?: number;
  log?: (line: string) => void;
}

/**
 * Seconds between anvil's state saves. It also saves on SIGTERM (every stop of the stack); a SIGKILL
 * loses at most this much, which the start-up recovery of lost writes (domain/chain/lost-transactions.ts)
 * sends again. Each save writes the whole state, so not every block.
 */
export const ANVIL_STATE_INTERVAL_S = 2;

/**
 * anvil rewrites its state file in place: a SIGKILL during a save leaves it torn, and anvil then
 * refuses to start. A file that parses is copied aside at each start; a torn one is replaced by
 * that copy (older: the lost-writes recovery brings back what it lacks).
 */
export function guardAnvilState(stateFile: string, log: (line: string) => void = () => {}): void {
  const backup = `${stateFile}.good`;
  if (!existsSync(stateFile)) return;
  try {
    JSON.parse(readFileSync(stateFile, 'utf8'));
    copyFileSync(stateFile, backup);
  } catch {
    if (existsSync(backup)) {
      copyFileSync(backup, stateFile);
      log(`anvil: ${stateFile} was torn by a kill during a save; restored the copy from the last start`);
    } else {
      renameSync(stateFile, `${stateFile}.torn`);
      log(`anvil: ${stateFile} was torn by a kill during a save and no earlier copy exists; starting from an empty chain`);
    }
  }
}

export async function startAnvil(options: AnvilOptions): Promise<RunningService> {
  const args = ['--host', '127.0.0.1', '--port', String(options.port), '--mnemonic', options.mnemonic ?? DEV_MNEMONIC];
  args.push('--accounts', '20', '--chain-id', String(options.chainId ?? 31337));
  if (options.stateFile) {
    guardAnvilState(options.stateFile, options.log);
    args.push('--state', options.stateFile, '--state-interval', String(ANVIL_STATE_INTERVAL_S));
  }
  const url = `http://127.0.0.1:${options.port}`;
  return startService({
    name: 'anvil',
    command: anvilBinary(),
    args,
    logFile: options.logFile,
    ready: async () => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      return response.ok;
    },
  });
}

export interface AzuriteOptions {
  port: number;
  /** Folder for blob data; in memory when absent. */
  location?: string;
  logFile?: string;
}

/** The well-known development account connection string for an Azurite blob endpoint. */
export function azuriteConnectionString(port: number): string {
  return (
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
    `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`
  );
}

export async function startAzurite(options: AzuriteOptions): Promise<RunningService> {
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const args = [
    main,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(options.port),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
  ];
  args.push(...(options.location ? ['--location', options.location] : ['--inMemoryPersistence', '--extentMemoryLimit', '256']));
  return startService({
    name: 'azurite',
    command: process.execPath,
    args,
    logFile: options.logFile,
    ready: () => portOpen('127.0.0.1', options.port),
  });
}
