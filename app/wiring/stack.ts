// The whole Tracewell stack in one process: the embedded services it needs (Temporal dev server,
// anvil, Azurite) as child processes, then the core, the worker and the HTTP API. `tracewell dev`,
// the benchmark and the end-to-end tests all start it this way.
import { mkdirSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { join } from 'node:path';
import { loadAppConfig } from '../config/app-config.js';
import type { AppConfig } from '../config/app-config.js';
import { loadTemporalConfig } from '../config/temporal.js';
import type { TemporalConfig } from '../config/temporal.js';
import type { RunningApi } from '../../api/server.js';
import { freePort } from '../devstack/process.js';
import type { RunningService } from '../devstack/process.js';
import {
  azuriteConnectionString,
  DEV_MNEMONIC,
  startAnvil,
  startAzurite,
  startTemporalDevServer,
  temporalUiUrl,
} from '../devstack/services.js';
import { ensureTemporalCli } from '../devstack/temporal-cli.js';
import { endLinesTo } from '../devstack/wait-indicator.js';
import type { WaitIndicator } from '../devstack/wait-indicator.js';
import { serveApi } from './api-server.js';
import { startEventServices } from './event-services.js';
import { startMirrorAnchor } from './mirror-anchor.js';
import type { MirrorAnchorer } from '../../domain/mirror/anchor.js';
import { startServiceBusIntake } from './service-bus.js';
import type { RunningServiceBus } from './service-bus.js';
import type { CommandDeps } from '../../domain/commands/deps.js';
import { commandDepsOf } from './command-deps.js';
import type { RunningEventServices } from './event-services.js';
import { openCore } from './core.js';
import type { Core } from './core.js';
import { connectTemporalClient, startWorker } from './temporal-worker.js';
import { ensurePartSearchAttributes } from '../deploy/search-attribute-setup.js';
import type { RunningWorker } from './temporal-worker.js';

export interface StackOptions {
  config: AppConfig;
  temporal: TemporalConfig;
  /** Start a Temporal dev server (true for `dev`); false connects to `temporal.connection.address`. */
  startTemporal: boolean;
  /** Where every embedded service keeps its state; everything is in memory when absent. */
  dataDir?: string;
  workflowBundlePath?: string;
  log?: (line: string) => void;
  /** Shows each service starting and how long it took; by default only its ready line goes to `log`. */
  waits?: WaitIndicator;
}

export interface Stack {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  rpcUrl: string;
  blobConnectionString: string;
  core: Core;
  /** The Temporal client the API uses. */
  client: Client;
  /** What commands on parts need (the API's and the intake's). */
  commands: CommandDeps;
  stop(): Promise<void>;
}

/** The settings naming a port the stack opens (the API, anvil, Azurite, the Temporal dev server and its UI). */
export const STACK_PORT_SETTINGS = ['API_PORT', 'CHAIN_PORT', 'AZURITE_PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_DEV_UI_PORT'] as const;

export interface FreePortOptions {
  /** The process environment the settings are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Keep a port `env` sets (the demo: a user who sets API_PORT gets the API there); only unset ports
   * are free ones. Without it every port is free (benchmarks, whose runs must never collide).
   */
  keepSetPorts?: boolean;
}

/**
 * The settings of a throwaway stack (benchmarks, the demo): the ports it opens are free ones (`0`),
 * so runs never collide; `overrides` (after the environment's own settings) adds or overrides settings.
 */
export function freePortStackConfig(
  overrides: NodeJS.ProcessEnv = {},
  { env = process.env, keepSetPorts = false }: FreePortOptions = {},
): { config: AppConfig; temporal: TemporalConfig } {
  const ports: NodeJS.ProcessEnv = {};
  for (const name of STACK_PORT_SETTINGS) ports[name] = keepSetPorts && env[name] ? env[name] : '0';
  const settings = { ...env, ...ports, ...overrides };
  const config = loadAppConfig(settings);
  const temporal = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG, settings);
  return { config, temporal };
}

/** `0` means any free port. */
async function portOrFree(port: number): Promise<number> {
  return port === 0 ? freePort() : port;
}

/** One part of the start, shown as a wait: `text` while it runs, `done(result)` once it has. */
async function phase<T>(waits: WaitIndicator, text: string, run: () => Promise<T>, done: (result: T) => string): Promise<T> {
  const wait = waits.begin(text);
  try {
    const result = await run();
    wait.succeed(done(result));
    return result;
  } catch (error) {
    wait.fail(`${text}: failed`);
    throw error;
  }
}

/** The Temporal dev server, for a stack without an external Temporal: the config then points at it. */
async function startEmbeddedTemporal(
  temporal: TemporalConfig,
  services: RunningService[],
  dataDir: string | undefined,
  waits: WaitIndicator,
): Promise<{ temporal: TemporalConfig; uiUrl: string }> {
  const cli = await ensureTemporalCli(waits);
  const { ip } = temporal.devServer;
  const port = await portOrFree(temporal.devServer.port);
  const uiPort = await portOrFree(temporal.devServer.uiPort);
  const uiUrl = temporalUiUrl({ ip, uiPort });
  const server = await phase(
    waits,
    'starting the Temporal dev server and its Web UI',
    () =>
      startTemporalDevServer({
        cli,
        ip,
        port,
        uiPort,
        namespace: temporal.connection.namespace,
        dbFile: dataDir ? join(dataDir, 'temporal.sqlite') : undefined,
        logFile: dataDir ? join(dataDir, 'logs', 'temporal.log') : undefined,
      }),
    () => `Temporal dev server ready at ${ip}:${port}, Web UI ${uiUrl}`,
  );
  services.push(server);
  return { temporal: { ...temporal, connection: { ...temporal.connection, address: `${ip}:${port}` } }, uiUrl };
}

/** anvil, for a stack without CHAIN_RPC_URL; returns its RPC URL. */
async function startEmbeddedChain(
  config: AppConfig,
  services: RunningService[],
  dataDir: string | undefined,
  waits: WaitIndicator,
): Promise<string> {
  const port = await portOrFree(config.CHAIN_PORT);
  const rpcUrl = `http://127.0.0.1:${port}`;
  const anvil = await phase(
    waits,
    'starting anvil (the chain)',
    () =>
      startAnvil({
        port,
        stateFile: dataDir ? join(dataDir, 'anvil-state.json') : undefined,
        logFile: dataDir ? join(dataDir, 'logs', 'anvil.log') : undefined,
      }),
    () => `anvil ready at ${rpcUrl}`,
  );
  services.push(anvil);
  return rpcUrl;
}

/** Azurite, for a stack without AZURE_STORAGE_CONNECTION_STRING; returns its connection string. */
async function startEmbeddedBlob(
  config: AppConfig,
  services: RunningService[],
  dataDir: string | undefined,
  waits: WaitIndicator,
): Promise<string> {
  const port = await portOrFree(config.AZURITE_PORT);
  const azurite = await phase(
    waits,
    'starting Azurite (the document vault)',
    () => startAzurite({ port, location: dataDir ? join(dataDir, 'azurite') : undefined }),
    () => `Azurite ready at http://127.0.0.1:${port}`,
  );
  services.push(azurite);
  return azuriteConnectionString(port);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { config, dataDir, log = () => {} } = options;
  const waits = options.waits ?? endLinesTo(log);
  let temporal = options.temporal;
  const services: RunningService[] = [];
  let core: Core | undefined;
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  let events: RunningEventServices | undefined;
  let anchor: MirrorAnchorer | undefined;
  let intake: RunningServiceBus | undefined;
  let client: Client | undefined;

  // Idempotent: a signal and a failing caller may both ask to stop.
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopAll());
  const stopAll = async () => {
    await intake?.close();
    await api?.close();
    await client?.connection.close();
    await worker?.stop().catch((error: unknown) => log(`worker stopped with: ${(error as Error).message}`));
    await anchor?.stop();
    await events?.stop();
    await core?.close();
    for (const service of services.reverse()) await service.stop();
  };

  try {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    let temporalUiUrl: string | undefined;
    if (options.startTemporal) ({ temporal, uiUrl: temporalUiUrl } = await startEmbeddedTemporal(temporal, services, dataDir, waits));
    const rpcUrl = config.CHAIN_RPC_URL || (await startEmbeddedChain(config, services, dataDir, waits));
    const blobConnectionString = config.AZURE_STORAGE_CONNECTION_STRING || (await startEmbeddedBlob(config, services, dataDir, waits));

    const opened = await phase(
      waits,
      'opening the database and deploying (migrations, PartRegistry, participants, lifecycles)',
      () =>
        openCore({
          config,
          rpcUrl,
          blobConnectionString,
          dev: !config.CHAIN_RPC_URL,
          deploy: true,
          devMnemonic: DEV_MNEMONIC,
          ledger: temporal.ledger,
          log,
        }),
      (result) => `database (${result.database.kind}) and deployment ready`,
    );
    core = opened;
    events = startEventServices(opened.database.db, opened.listener, opened.mirrorSignal, config, opened.webhookSecrets, log);
    anchor = await startMirrorAnchor(opened, config, log);
    const connected = await connectTemporalClient(temporal);
    client = connected;
    // The dev server has them from its start; an external server may need them registered.
    if (!options.startTemporal) await ensurePartSearchAttributes(connected, temporal.connection.namespace, log);
    worker = await phase(
      waits,
      'starting the worker (loading the workflow code)',
      () => startWorker(temporal, opened.activityDeps, { workflowBundlePath: options.workflowBundlePath }),
      () => `worker polling task queue ${temporal.taskQueue}`,
    );
    worker.done.catch((error: unknown) => log(`worker crashed: ${(error as Error).stack ?? error}`));
    const apiPort = await portOrFree(config.API_PORT);
    api = await phase(
      waits,
      'starting the API',
      () => serveApi(opened, connected, temporal, { host: config.API_HOST, port: apiPort, bodyMaxBytes: config.API_BODY_MAX_BYTES }, log),
      (served) => `API listening on ${served.url}`,
    );
    const commands = commandDepsOf(core, client, temporal);
    intake = startServiceBusIntake(config, commands, log);

    return {
      apiUrl: api.url,
      temporalAddress: temporal.connection.address,
      temporalUiUrl,
      rpcUrl,
      blobConnectionString,
      core,
      client,
      commands,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
