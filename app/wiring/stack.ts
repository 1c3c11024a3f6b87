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
import { azuriteConnectionString, DEV_MNEMONIC, startAnvil, startAzurite, startTemporalDevServer } from '../devstack/services.js';
import { ensureTemporalCli } from '../devstack/temporal-cli.js';
import { endLinesTo } from '../devstack/wait-indicator.js';
import { serveApi } from './api-server.js';
import { startEventServices } from './event-services.js';
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

/**
 * The settings of a throwaway stack (benchmarks, the demo): every port the stack opens is a free
 * one, so runs never collide; `env` (after the process's own) adds or overrides settings.
 */
export function freePortStackConfig(env: NodeJS.ProcessEnv = {}): { config: AppConfig; temporal: TemporalConfig } {
  const config = loadAppConfig({ ...process.env, API_PORT: '0', CHAIN_PORT: '0', AZURITE_PORT: '0', ...env });
  const temporal = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG, {
    ...process.env,
    TEMPORAL_DEV_PORT: '0',
    TEMPORAL_DEV_UI_PORT: '0',
  });
  return { config, temporal };
}

/** `0` means any free port. */
async function portOrFree(port: number): Promise<number> {
  return port === 0 ? freePort() : port;
}

/** The Temporal dev server, for a stack without an external Temporal: the config then points at it. */
async function startEmbeddedTemporal(
  temporal: TemporalConfig,
  services: RunningService[],
  dataDir: string | undefined,
  log: (line: string) => void,
): Promise<{ temporal: TemporalConfig; uiUrl: string }> {
  const cli = await ensureTemporalCli(endLinesTo(log));
  const { ip } = temporal.devServer;
  const port = await portOrFree(temporal.devServer.port);
  const uiPort = await portOrFree(temporal.devServer.uiPort);
  services.push(
    await startTemporalDevServer({
      cli,
      ip,
      port,
      uiPort,
      namespace: temporal.connection.namespace,
      dbFile: dataDir ? join(dataDir, 'temporal.sqlite') : undefined,
      logFile: dataDir ? join(dataDir, 'logs', 'temporal.log') : undefined,
    }),
  );
  log(`temporal dev server ready at ${ip}:${port}`);
  return { temporal: { ...temporal, connection: { ...temporal.connection, address: `${ip}:${port}` } }, uiUrl: `http://${ip}:${uiPort}` };
}

/** anvil, for a stack without CHAIN_RPC_URL; returns its RPC URL. */
async function startEmbeddedChain(
  config: AppConfig,
  services: RunningService[],
  dataDir: string | undefined,
  log: (line: string) => void,
): Promise<string> {
  const port = await portOrFree(config.CHAIN_PORT);
  services.push(
    await startAnvil({
      port,
      stateFile: dataDir ? join(dataDir, 'anvil-state.json') : undefined,
      logFile: dataDir ? join(dataDir, 'logs', 'anvil.log') : undefined,
    }),
  );
  const rpcUrl = `http://127.0.0.1:${port}`;
  log(`anvil ready at ${rpcUrl}`);
  return rpcUrl;
}

/** Azurite, for a stack without AZURE_STORAGE_CONNECTION_STRING; returns its connection string. */
async function startEmbeddedBlob(
  config: AppConfig,
  services: RunningService[],
  dataDir: string | undefined,
  log: (line: string) => void,
): Promise<string> {
  const port = await portOrFree(config.AZURITE_PORT);
  services.push(await startAzurite({ port, location: dataDir ? join(dataDir, 'azurite') : undefined }));
  log(`azurite ready at http://127.0.0.1:${port}`);
  return azuriteConnectionString(port);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { config, dataDir, log = () => {} } = options;
  let temporal = options.temporal;
  const services: RunningService[] = [];
  let core: Core | undefined;
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  let events: RunningEventServices | undefined;
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
    await events?.stop();
    await core?.close();
    for (const service of services.reverse()) await service.stop();
  };

  try {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    let temporalUiUrl: string | undefined;
    if (options.startTemporal) ({ temporal, uiUrl: temporalUiUrl } = await startEmbeddedTemporal(temporal, services, dataDir, log));
    const rpcUrl = config.CHAIN_RPC_URL || (await startEmbeddedChain(config, services, dataDir, log));
    const blobConnectionString = config.AZURE_STORAGE_CONNECTION_STRING || (await startEmbeddedBlob(config, services, dataDir, log));

    core = await openCore({
      config,
      rpcUrl,
      blobConnectionString,
      dev: !config.CHAIN_RPC_URL,
      deploy: true,
      devMnemonic: DEV_MNEMONIC,
      log,
    });
    events = startEventServices(core.database.db, core.listener, core.mirrorSignal, config, log);
    client = await connectTemporalClient(temporal);
    // The dev server has them from its start; an external server may need them registered.
    if (!options.startTemporal) await ensurePartSearchAttributes(client, temporal.connection.namespace, log);
    worker = await startWorker(temporal, core.activityDeps, { workflowBundlePath: options.workflowBundlePath });
    worker.done.catch((error: unknown) => log(`worker crashed: ${(error as Error).stack ?? error}`));
    api = await serveApi(core, client, temporal, { host: config.API_HOST, port: await portOrFree(config.API_PORT) }, log);
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
