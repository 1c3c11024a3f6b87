// The `tracewell` command line: `dev` (the whole embedded stack), `worker`, `api`, `deploy`, `migrate`,
// `lifecycle validate|schema` for process engineers, and `ops …` for operations.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { Runtime } from '@temporalio/worker';
import { loadAppConfig } from '../config/app-config.js';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { loadTemporalConfig } from '../config/temporal.js';
import { openDatabase } from '../../db/client.js';
import { lifecycleJsonSchemaText } from '../../domain/lifecycles/json-schema.js';
import { LifecycleFileError, readLifecycleFile } from '../../domain/lifecycles/load.js';
import { Errors } from '../../domain/errors/catalogue.js';
import { exitCodeOf } from '../../domain/errors/coded-error.js';
import { killAllChildrenSync } from '../devstack/process.js';
import { formatElapsed, spinnerOn } from '../devstack/wait-indicator.js';
import { EXIT_CODE_HELP, reportFailure } from './report-failure.js';
import { registerOpsCommands } from './ops.js';
import { serveApi } from '../wiring/api-server.js';
import { openCore } from '../wiring/core.js';
import { startMirrorAnchor } from '../wiring/mirror-anchor.js';
import { runDeploy } from '../wiring/deploy-process.js';
import { applyMigrations } from '../deploy/deploy.js';
import { startEventServices } from '../wiring/event-services.js';
import { webhookSecretBox } from '../wiring/keys.js';
import { startServiceBusIntake } from '../wiring/service-bus.js';
import { listDeadLetters, resubmitDeadLetters } from '../../domain/intake/service-bus.js';
import { commandDepsOf } from '../wiring/command-deps.js';
import { ServiceBusClient } from '@azure/service-bus';
import { openLedgerProcess } from '../wiring/ledger-listener.js';
import { registerListenerStatus, registerVerify } from './ledger.js';
import { stopOnSignal } from '../wiring/shutdown.js';
import { startStack } from '../wiring/stack.js';
import type { Stack } from '../wiring/stack.js';
import { ADMIN_KEY_FILE, readDataDir, removeStackFile, writeStackFile } from '../devstack/stack-file.js';
import { connectTemporalClient, startWorker } from '../wiring/temporal-worker.js';
import { workerLogger } from '../wiring/worker-log.js';
import { requirePartSearchAttributes } from '../deploy/search-attribute-setup.js';

const log = (line: string) => console.log(`[tracewell] ${line}`);

/** Reads the environment settings and sets the Temporal SDK's log level from them. */
function settings(): AppConfig {
  const config = loadAppConfig();
  Runtime.install({ logger: workerLogger(config.TEMPORAL_LOG_LEVEL) });
  return config;
}

/**
 * Settings and core for the production commands, which share PostgreSQL and a chain with other
 * processes; the embedded defaults belong to `dev`.
 */
async function openExternal() {
  const config = settings();
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL: required outside `tracewell dev` (which embeds PGlite)');
  if (!config.CHAIN_RPC_URL) throw new ConfigError('CHAIN_RPC_URL: required outside `tracewell dev` (which starts anvil)');
  const temporal = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG);
  // Checks that `tracewell deploy` has set up the schema and the deployment; sets up nothing itself.
  const core = await openCore({ config, rpcUrl: config.CHAIN_RPC_URL, dev: false, ledger: temporal.ledger, log });
  return { config, temporal, core };
}

/** Two stacks on one data directory would both open its PGlite and anvil state. */
function refuseRunningStack(dir: string): void {
  if (!existsSync(dir)) return;
  const state = readDataDir(dir);
  if (state.status === 'running')
    throw new ConfigError(
      `--data-dir ${dir}: \`tracewell dev\` already runs there (pid ${state.stack.pid}, API ${state.stack.apiUrl}); stop it first, or delete ${join(dir, 'stack.json')} if that process is not it`,
    );
}

/** Writes DIR/stack.json for a started dev stack; returns its stop, which removes the file first. */
function publishStackFile(dir: string, stack: Stack, config: AppConfig): () => Promise<void> {
  writeStackFile(dir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    apiUrl: stack.apiUrl,
    temporalAddress: stack.temporalAddress,
    temporalUiUrl: stack.temporalUiUrl ?? null,
    chainRpcUrl: stack.rpcUrl,
    database: config.DATABASE_URL ? 'postgres' : 'pglite',
    adminApiKeyFile: stack.core.devAdminApiKey ? ADMIN_KEY_FILE : null,
  });
  process.on('exit', () => removeStackFile(dir));
  return async () => {
    removeStackFile(dir);
    await stack.stop();
  };
}

const program = new Command('tracewell')
  .description('Track and trace supply-chain parts on an Ethereum ledger')
  // Any command: a failure is printed as the API answers it, `{ "error": { code, message, details? } }`.
  .option('--json', 'print results (where a command has them) and failures as JSON');

program
  .command('dev')
  .description('start the whole stack on embedded defaults: Temporal dev server, anvil, Azurite, PGlite, the deploy, worker and API')
  .option('--data-dir <dir>', 'keep all state here so it survives a restart (TRACEWELL_DATA_DIR)')
  .action(async (options: { dataDir?: string }) => {
    const config = settings();
    const dataDir = options.dataDir ?? config.TRACEWELL_DATA_DIR;
    if (dataDir) refuseRunningStack(resolve(dataDir));
    const startedAt = performance.now();
    const stack = await startStack({
      config: { ...config, TRACEWELL_DATA_DIR: dataDir ? resolve(dataDir) : undefined },
      temporal: loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG),
      startTemporal: true,
      dataDir: dataDir ? resolve(dataDir) : undefined,
      log,
      waits: spinnerOn(process.stdout),
    });
    // DIR/stack.json tells the CLI in other shells how to reach this stack; it goes first on the way down.
    const stop = dataDir ? publishStackFile(resolve(dataDir), stack, config) : stack.stop;
    stopOnSignal(stop, log);
    console.log(
      [
        '',
        `Tracewell is running (started in ${formatElapsed(performance.now() - startedAt)}).`,
        `  API          ${stack.apiUrl}`,
        `  Temporal UI  ${stack.temporalUiUrl ?? '(external Temporal)'}`,
        `  Temporal     ${stack.temporalAddress}`,
        `  Chain RPC    ${stack.rpcUrl}`,
        `  State        ${dataDir ? resolve(dataDir) : 'in memory (use --data-dir to keep it)'}`,
        stack.core.devAdminApiKey
          ? `  Admin key    ${stack.core.devAdminApiKey}${dataDir ? ` (kept in ${join(resolve(dataDir), 'admin-api-key')})` : ' (new each start without --data-dir)'}`
          : '  Admin key    the one in TRACEWELL_ADMIN_API_KEY',
        '',
        `Try: curl -s -XPOST ${stack.apiUrl}/parts -H "authorization: Bearer ${stack.core.devAdminApiKey ?? '$TRACEWELL_ADMIN_API_KEY'}" -H 'content-type: application/json' -d '{"id":"urn:demo:part:1","lifecycle":"part-basic"}'`,
        ...(dataDir ? [`From another shell: npx tracewell verify --data-dir ${dataDir} (also ops failures, listener status)`] : []),
        'Press Ctrl-C to stop.',
      ].join('\n'),
    );
  });

program
  .command('worker')
  .description('run a Temporal worker for part workflows, after `tracewell deploy` (needs DATABASE_URL, CHAIN_RPC_URL, CHAIN_MNEMONIC)')
  .action(async () => {
    const { config, temporal, core } = await openExternal();
    const client = await connectTemporalClient(temporal);
    await requirePartSearchAttributes(client, temporal.connection.namespace).finally(() => client.connection.close());
    const worker = await startWorker(temporal, core.activityDeps);
    const anchor = await startMirrorAnchor(core, config, log);
    stopOnSignal(async () => {
      await worker.stop();
      await anchor.stop();
      await core.close();
    });
    log(`worker polling task queue ${temporal.taskQueue} on ${temporal.connection.address}`);
    await worker.done;
  });

program
  .command('api')
  .description('serve the HTTP API, after `tracewell deploy` (needs DATABASE_URL, CHAIN_RPC_URL, CHAIN_MNEMONIC)')
  .action(async () => {
    const { config, temporal, core } = await openExternal();
    const client = await connectTemporalClient(temporal);
    await requirePartSearchAttributes(client, temporal.connection.namespace);
    const api = await serveApi(
      core,
      client,
      temporal,
      { host: config.API_HOST, port: config.API_PORT, bodyMaxBytes: config.API_BODY_MAX_BYTES },
      log,
    );
    stopOnSignal(async () => {
      await api.close();
      await client.connection.close();
      await core.close();
    });
    log(`API listening on ${api.url}`);
  });

const listener = program
  .command('listener')
  .description(
    "mirror the contract's events into SQL and deliver them to webhook subscriptions, after `tracewell deploy` (needs DATABASE_URL, CHAIN_RPC_URL)",
  )
  .action(async () => {
    const config = settings();
    const ledger = await openLedgerProcess(config, { log });
    const events = startEventServices(ledger.database.db, ledger.listener, ledger.signal, config, webhookSecretBox(config, false), log);
    stopOnSignal(async () => {
      await events.stop();
      await ledger.close();
    });
    log(`ledger listener mirroring ${ledger.registry.address} on chain ${ledger.chain.chainId}`);
  });

registerListenerStatus(listener, { settings, json: () => program.opts().json === true });

registerVerify(program, { settings, json: () => program.opts().json === true });

const intake = program
  .command('intake')
  .description(
    'receive the Service Bus intake queue: start parts, deliver events, attach documents (needs SERVICE_BUS_CONNECTION_STRING and what `worker` needs)',
  )
  .action(async () => {
    const { config, temporal, core } = await openExternal();
    if (!config.SERVICE_BUS_CONNECTION_STRING) throw new ConfigError('SERVICE_BUS_CONNECTION_STRING: required by `tracewell intake`');
    const client = await connectTemporalClient(temporal);
    await requirePartSearchAttributes(client, temporal.connection.namespace).catch(async (error: unknown) => {
      await client.connection.close();
      throw error;
    });
    const running = startServiceBusIntake(config, commandDepsOf(core, client, temporal), log)!;
    stopOnSignal(async () => {
      await running.close();
      await client.connection.close();
      await core.close();
    });
  });

intake
  .command('dlq')
  .description("list the intake's dead-lettered messages with their reasons; --resubmit sends them back to the queue after a fix")
  .option('--resubmit <ids...>', 'message ids to send back to the queue')
  .option('--all', 'resubmit every dead-lettered message')
  .action(async (options: { resubmit?: string[]; all?: boolean }) => {
    const config = settings();
    if (!config.SERVICE_BUS_CONNECTION_STRING) throw new ConfigError('SERVICE_BUS_CONNECTION_STRING: required by `tracewell intake dlq`');
    const client = new ServiceBusClient(config.SERVICE_BUS_CONNECTION_STRING);
    try {
      const queue = config.SERVICE_BUS_INTAKE_QUEUE;
      const resubmit = options.all ? 'all' : options.resubmit;
      const messages = resubmit ? await resubmitDeadLetters(client, queue, resubmit) : await listDeadLetters(client, queue);
      if (program.opts().json) console.log(JSON.stringify(messages, null, 2));
      else {
        console.log(`${messages.length} message(s) ${resubmit ? 'resubmitted to' : 'dead-lettered in'} ${queue}`);
        for (const message of messages) console.log(`  ${message.messageId}  ${message.reason ?? '?'}: ${message.description ?? ''}`);
      }
    } finally {
      await client.close();
    }
  });

program
  .command('deploy')
  .description(
    'set up what every process checks at start, once: migrations, the PartRegistry (found or deployed) and its gateway registration, the document container, ' +
      'participants and their on-chain roles, the admin API key, the lifecycles; concurrent runs wait for each other ' +
      '(needs DATABASE_URL, CHAIN_RPC_URL, CHAIN_MNEMONIC, AZURE_STORAGE_CONNECTION_STRING, TRACEWELL_KEYSTORE_DIR, TRACEWELL_KEYSTORE_PASSPHRASE)',
  )
  .action(async () => {
    await runDeploy(settings(), log);
  });

program
  .command('migrate')
  .description(
    'apply database migrations only, under the deploy lock (DATABASE_URL, or the PGlite database under TRACEWELL_DATA_DIR); `deploy` includes this',
  )
  .action(async () => {
    const config = loadAppConfig();
    if (!config.DATABASE_URL && !config.TRACEWELL_DATA_DIR) {
      throw new ConfigError('DATABASE_URL or TRACEWELL_DATA_DIR: say which database to migrate');
    }
    // PGlite is one process's: a running dev stack has it open (and migrated it when it started).
    if (!config.DATABASE_URL && existsSync(config.TRACEWELL_DATA_DIR!) && readDataDir(config.TRACEWELL_DATA_DIR!).status === 'running')
      throw new ConfigError(
        `TRACEWELL_DATA_DIR: \`tracewell dev\` runs on ${config.TRACEWELL_DATA_DIR} and holds its database; it migrated it at start`,
      );
    const database = await openDatabase({
      url: config.DATABASE_URL,
      pgliteDir: config.TRACEWELL_DATA_DIR ? resolve(config.TRACEWELL_DATA_DIR, 'pglite') : undefined,
    });
    try {
      await applyMigrations(database, log);
    } finally {
      await database.close();
    }
  });

const lifecycle = program.command('lifecycle').description('lifecycle definitions for process engineers');

lifecycle
  .command('validate')
  .description('check definition files (YAML or JSON); prints every problem with file, line, step and field')
  .argument('<files...>', 'definition files')
  .action((files: string[]) => {
    let failed = false;
    for (const file of files) {
      try {
        const definition = readLifecycleFile(file);
        console.log(`${file}: ok (${definition.name}, ${definition.steps.length} steps)`);
      } catch (error) {
        if (!(error instanceof LifecycleFileError)) throw error;
        console.error(error.message);
        failed = true;
      }
    }
    process.exitCode = failed ? exitCodeOf(Errors.invalid_lifecycle_file.status) : 0;
  });

lifecycle
  .command('schema')
  .description('print the JSON Schema of the definition format')
  .action(() => {
    process.stdout.write(lifecycleJsonSchemaText());
  });

registerOpsCommands(program);

program.addHelpText('after', EXIT_CODE_HELP);
// Every command (subcommands included) throws instead of exiting, so its exit code is the catalogue's.
const overrideExits = (command: Command): void => {
  command.exitOverride();
  command.commands.forEach(overrideExits);
};
overrideExits(program);

program.parseAsync().catch((error: unknown) => {
  const code = reportFailure(error, { json: program.opts().json === true });
  killAllChildrenSync();
  process.exit(code);
});
