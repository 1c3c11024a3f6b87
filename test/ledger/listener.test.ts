// The ledger listener on a chain of this file's own (an anvil it starts, so snapshots and reverts
// disturb no other test): events reach SQL once and in chain order, bounded ranges survive a node's
// range limit, an outage is ridden out, a reorganisation is rolled back and read again, a killed
// `tracewell listener` restarts where it was, and `verify` finds a row edited by hand.
import { KeyRevocations } from '../../domain/streams/key-revocations.js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { createWalletClient, getAddress, http, zeroHash } from 'viem';
import type { Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs, ownership } from '../../db/schema.js';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { DEV_MNEMONIC, startAnvil } from '../../app/devstack/services.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { bloomMayContain, LedgerListener } from '../../domain/mirror/listener.js';
import type { ListenerOptions } from '../../domain/mirror/listener.js';
import { PartRegistry, REGISTRAR_ROLE, tokenIdOf } from '../../domain/chain/part-registry.js';
import { mirrorStatus } from '../../domain/mirror/mirror-status.js';
import { formatVerifyReport, verifyMirror } from '../../domain/mirror/verify.js';
import { MirrorAnchorer } from '../../domain/mirror/anchor.js';
import { eventHash } from '../../domain/mirror/event-log.js';
import { DEFAULT_LEDGER_SETTINGS, TransactionManager } from '../../domain/chain/transaction-manager.js';
import { testAppConfig, uniqueId } from '../support/env.js';
import { deploymentInputs } from '../../app/deploy/inputs.js';
import { recordDeployment } from '../../db/deployments.js';
import { knownMigrations } from '../../db/migration-status.js';
import { startRpcGate } from '../../tools/faults/rpc-gate.js';
import type { RpcGate } from '../../tools/faults/rpc-gate.js';
import { until } from '../support/until.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { WebSocket } from 'ws';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { authenticate } from '../../api/auth.js';
import { eventStreamRoutes } from '../../api/event-stream.js';
import { listen } from '../../api/server.js';
import { issueApiKey } from '../../db/api-keys.js';
import { createSubscription, deleteSubscription } from '../../db/event-subscriptions.js';
import { insertParticipant } from '../../db/participants.js';
import { eventsAfter, latestSeq } from '../../domain/streams/events.js';
import type { StreamEvent } from '../../domain/streams/events.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { topicMessageOf } from '../../domain/streams/service-bus-topic.js';
import { WebhookDispatcher } from '../../domain/streams/webhooks.js';
import { WebhookTargetPolicy } from '../../domain/streams/webhook-targets.js';
import type { WebhookPayload } from '../../domain/streams/webhooks.js';
import { attachEventSocket } from '../../domain/streams/websocket.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHAIN_ID = 31_999;
const admin = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 1 });
const bob = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 2 });
type Account = typeof admin;

let anvil: RunningService;
let chain: ChainConnection;
let database: Database;
let registry: PartRegistry;
let deployBlock: bigint;
let gate: RpcGate;
const listeners: LedgerListener[] = [];

function wallet(account: Account) {
  return createWalletClient({ account, chain: chain.client.chain, transport: http(chain.rpcUrl) });
}

async function send(account: Account, data: Hex): Promise<Hex> {
  const hash = await wallet(account).sendTransaction({ to: registry.address, data });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return hash;
}

/** Registers a part held by alice (two events: Transfer from zero, PartRegistered). */
async function register(partId = uniqueId()): Promise<string> {
  await send(alice, registry.registerCall(partId, zeroHash, []));
  return partId;
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const answer = await fetch(chain.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await answer.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/** A listener of this file's contract, reading through `rpcUrl` (default: the chain itself). */
async function listener(options: Partial<ListenerOptions> = {}, rpcUrl = chain.rpcUrl): Promise<LedgerListener> {
  const connection = rpcUrl === chain.rpcUrl ? chain : await connectChain(rpcUrl);
  const made = new LedgerListener(database.db, new PartRegistry(connection.client, registry.address), CHAIN_ID, {
    startBlock: deployBlock,
    ...options,
  });
  listeners.push(made);
  return made;
}

/** The mirrored rows of this file's contract, in sequence order. */
function mirrored() {
  return database.db
    .select()
    .from(ledgerEvents)
    .where(and(eq(ledgerEvents.chainId, CHAIN_ID), eq(ledgerEvents.address, registry.address)))
    .orderBy(asc(ledgerEvents.id));
}

/** Every log of the contract on chain now, as `block:logIndex:txHash`, in chain order. */
async function chainLogs(): Promise<string[]> {
  const logs = await chain.client.getLogs({ address: registry.address, fromBlock: deployBlock, toBlock: 'latest' });
  return logs.map((log) => `${log.blockNumber}:${log.logIndex}:${log.transactionHash}`);
}

async function mirrorMatchesChain(): Promise<void> {
  const rows = await mirrored();
  expect(rows.map((row) => `${row.blockNumber}:${row.logIndex}:${row.txHash}`)).toEqual(await chainLogs());
  const report = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
  expect(report.drift).toEqual([]);
  expect(report.ok).toBe(true);
}

beforeAll(async () => {
  const port = await freePort();
  anvil = await startAnvil({ port, chainId: CHAIN_ID });
  chain = await connectChain(`http://127.0.0.1:${port}`);
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  const hash = await wallet(admin).deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  deployBlock = receipt.blockNumber;
  registry = new PartRegistry(chain.client, getAddress(receipt.contractAddress!));
  await send(admin, registry.grantRoleCall(REGISTRAR_ROLE, alice.address));
  gate = await startRpcGate(chain.rpcUrl);
});

afterAll(async () => {
  for (const made of listeners) await made.stop();
  await gate?.close();
  await database?.close();
  await anvil?.stop();
});

describe('ledger listener', () => {
  it('mirrors every event once, in chain order, hash-chained, with its effects on custody', async () => {
    const first = await register();
    const second = await register();
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(first)));
    const mirror = await listener();
    await mirror.catchUp();
    await mirror.catchUp(); // a second catch-up finds nothing new and writes nothing twice

    const rows = await mirrored();
    // The deployment grants the admin its roles; then alice's role, the two parts and the transfer.
    const deployment = rows.filter((row) => BigInt(row.blockNumber) === deployBlock);
    expect(deployment.length).toBeGreaterThan(0);
    expect(deployment.every((row) => row.name === 'RoleGranted')).toBe(true);
    expect(rows.slice(deployment.length).map((row) => row.name)).toEqual([
      'RoleGranted',
      'Transfer',
      'PartRegistered',
      'Transfer',
      'PartRegistered',
      'Transfer',
    ]);
    expect(rows.filter((row) => row.name === 'PartRegistered').map((row) => row.args.part)).toEqual([first, second]);
    for (const [index, row] of rows.entries()) {
      if (index > 0) expect(row.prevHash).toBe(rows[index - 1]!.hash);
      expect(row.topics[0]).toMatch(/^0x[0-9a-f]{64}$/);
    }
    const custody = await database.db.select().from(ownership).where(eq(ownership.partId, first)).orderBy(asc(ownership.id));
    expect(custody.map((row) => row.toAddress)).toEqual([alice.address, bob.address]);
    await mirrorMatchesChain();
  });

  it('stores a NUL in a part id as U+FFFD in the event and the custody it projects, and keeps going', async () => {
    const raw = `${uniqueId()}\u0000x`;
    const stored = raw.replace('\u0000', '\uFFFD');
    await register(raw);
    const mirror = await listener();
    await mirror.catchUp(); // the id from PartRegistered
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(raw)));
    await mirror.catchUp(); // the id read back from the chain
    const rows = (await mirrored()).filter((row) => row.partIds.includes(stored));
    expect(rows.map((row) => row.name)).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
    const custody = await database.db.select().from(ownership).where(eq(ownership.partId, stored)).orderBy(asc(ownership.id));
    expect(custody.map((row) => row.toAddress)).toEqual([alice.address, bob.address]);
    await mirrorMatchesChain();
  });

  it("reads a block's logs bloom as the yellow paper does", async () => {
    const rows = await mirrored();
    const block = await chain.client.getBlock({ blockNumber: BigInt(rows.at(-1)!.blockNumber) });
    expect(bloomMayContain(block.logsBloom, registry.address)).toBe(true);
    expect(bloomMayContain(block.logsBloom, registry.address.toLowerCase())).toBe(true);
    // An empty block's bloom holds nothing.
    await rpc('anvil_mine', ['0x1']);
    const empty = await chain.client.getBlock({ blockTag: 'latest' });
    expect(bloomMayContain(empty.logsBloom, registry.address)).toBe(false);
  });

  it('reads in bounded ranges and narrows them while the node refuses a range', async () => {
    for (let i = 0; i < 6; i += 1) await register();
    gate.maxLogRange = 2;
    const refusedBefore = gate.refusedLogRanges;
    const mirror = await listener({ batchBlocks: 5 }, gate.url);
    await mirror.catchUp();
    gate.maxLogRange = undefined;
    expect(gate.refusedLogRanges).toBeGreaterThan(refusedBefore);
    await mirrorMatchesChain();
  });

  it('waits for confirmations before mirroring a block', async () => {
    const mirror = await listener({ confirmations: 2 });
    await mirror.catchUp();
    const partId = await register();
    await mirror.catchUp();
    expect((await mirrored()).some((row) => row.args.part === partId)).toBe(false);
    await rpc('anvil_mine', ['0x2']);
    await mirror.catchUp();
    expect((await mirrored()).some((row) => row.args.part === partId)).toBe(true);
    await mirrorMatchesChain();
  });

  it('rides out an RPC outage with backoff and catches up when the node is back', async () => {
    const mirror = await listener({ pollMs: 20, backoff: { initialMs: 20, maxMs: 100 } }, gate.url);
    mirror.start();
    gate.mode = 'down';
    const partId = await register();
    const status = await until('a failed pass', async () => {
      const current = await mirror.status();
      return (current.lastError?.failures ?? 0) >= 2 && current;
    });
    expect(status.lastError?.message).toBeTruthy();
    // Other processes (the API's /ops/listener) see it in SQL.
    const ledger = { chainId: CHAIN_ID, address: registry.address };
    expect((await mirrorStatus(database.db, chain.client, ledger)).lastError).toMatchObject({ failures: expect.any(Number) });
    gate.mode = 'open';
    await until('the part mirrored', async () => (await mirrored()).some((row) => row.args.part === partId));
    expect((await mirror.status()).lastError).toBeNull();
    expect((await mirrorStatus(database.db, chain.client, ledger)).lastError).toBeNull();
    await mirror.stop();
    await mirrorMatchesChain();
  });

  it('detects a reorganisation (anvil snapshot and revert), rolls the mirror back and reads the new chain', async () => {
    const mirror = await listener();
    await mirror.catchUp();
    const snapshot = await rpc<string>('evm_snapshot');
    const orphan = await register();
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(orphan)));
    await mirror.catchUp();
    expect((await mirrored()).filter((row) => row.partIds.includes(orphan))).toHaveLength(3);
    expect(await database.db.select().from(ownership).where(eq(ownership.partId, orphan))).toHaveLength(2);

    // The fork: the two blocks are replaced by other blocks at the same heights.
    expect(await rpc<boolean>('evm_revert', [snapshot])).toBe(true);
    const survivor = await register();
    await rpc('anvil_mine', ['0x1']);
    await mirror.catchUp();

    const rows = await mirrored();
    expect(rows.some((row) => row.partIds.includes(orphan))).toBe(false);
    expect(rows.filter((row) => row.partIds.includes(survivor)).map((row) => row.name)).toEqual(['Transfer', 'PartRegistered']);
    expect(await database.db.select().from(ownership).where(eq(ownership.partId, orphan))).toHaveLength(0);
    const [reorg] = await database.db
      .select()
      .from(ledgerReorgs)
      .where(and(eq(ledgerReorgs.chainId, CHAIN_ID), eq(ledgerReorgs.address, registry.address)));
    expect(reorg).toMatchObject({ removedEvents: 3 });
    expect(reorg!.removed.map((event) => event.name)).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
    await mirrorMatchesChain();
  });

  it('tells webhook, WebSocket and SSE subscribers that a reorganisation took back events they received', async () => {
    const db = database.db;
    const ledger = { chainId: CHAIN_ID, address: registry.address };
    const signal = new MirrorSignal();
    const mirror = await listener({ signal });
    await mirror.catchUp();
    const orphan = uniqueId();
    const survivor = uniqueId();
    const filter = { parts: [orphan, survivor] };
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      // A participant with a key, and the API's SSE route and WebSocket endpoint on a server of their own.
      const owner = `urn:test:reorg-streams:${randomUUID().slice(0, 8)}`;
      await insertParticipant(db, {
        id: owner,
        name: owner,
        roles: [],
        address: privateKeyToAddress(generatePrivateKey()),
        keyRef: 'test:none',
        documentKeyRef: null,
        documentPublicKey: null,
      });
      const { key } = await issueApiKey(db, owner);
      const app = new Hono();
      app.use('*', authenticate(db));
      const keyRevocations = new KeyRevocations();
      app.route('/events', eventStreamRoutes({ db, ledger, mirrorSignal: signal, keyRevocations }, { pollMs: 50, heartbeatMs: 1_000 }));
      const api = await listen(app, '127.0.0.1', 0, {
        onServer: (server) => attachEventSocket(server, { db, ledger, mirrorSignal: signal, keyRevocations }, { pollMs: 50 }),
      });
      cleanups.push(() => api.close());

      // A webhook receiver and its subscription, delivered by a real dispatcher.
      const hooks: StreamEvent[] = [];
      const receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          hooks.push((JSON.parse(Buffer.concat(chunks).toString()) as WebhookPayload).event);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
      const start = await latestSeq(db, ledger);
      const hook = await createSubscription(db, {
        id: randomUUID(),
        ownerId: owner,
        name: 'reorg-hook',
        kind: 'webhook',
        filter,
        cursor: start,
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        secret: 'reorg-secret-0123456789',
      });
      cleanups.push(() => deleteSubscription(db, hook!.id));
      // The receiver is on loopback, which webhooks may reach only when allowed.
      const targets = new WebhookTargetPolicy(['127.0.0.1']);
      const dispatcher = new WebhookDispatcher({ db, ledger, signal, pollMs: 50, targets, log: () => {} });
      dispatcher.start();
      cleanups.push(() => dispatcher.stop());

      // A WebSocket client that acknowledges every event.
      const socketEvents: StreamEvent[] = [];
      const socket = new WebSocket(`${api.url.replace('http', 'ws')}/events/ws`, { headers: { authorization: `Bearer ${key}` } });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      cleanups.push(async () => socket.close());
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; seq: number; event: StreamEvent };
        if (frame.type !== 'event') return;
        socketEvents.push(frame.event);
        socket.send(JSON.stringify({ type: 'ack', seq: frame.seq }));
      });
      socket.send(JSON.stringify({ type: 'subscribe', filter, start }));

      // An SSE reader, kept running in the background.
      const sseEvents: { type: string; event: StreamEvent }[] = [];
      const aborted = new AbortController();
      const response = await fetch(`${api.url}/events/stream?parts=${orphan},${survivor}&after=${start}`, {
        headers: { authorization: `Bearer ${key}` },
        signal: aborted.signal,
      });
      expect(response.status).toBe(200);
      cleanups.push(async () => aborted.abort());
      const reading = readSse(response.body!, (type, data) => sseEvents.push({ type, event: JSON.parse(data) as StreamEvent }));
      reading.catch(() => undefined);

      // Three events every stream delivers, then a fork that takes them back.
      const snapshot = await rpc<string>('evm_snapshot');
      await register(orphan);
      await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(orphan)));
      await mirror.catchUp();
      const delivered = (await mirrored()).filter((row) => row.partIds.includes(orphan));
      expect(delivered.map((row) => row.name)).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
      const ids = delivered.map((row) => `${CHAIN_ID}:${row.txHash}:${row.logIndex}`);
      await until('every stream has the three events', () => hooks.length >= 3 && socketEvents.length >= 3 && sseEvents.length >= 3);

      expect(await rpc<boolean>('evm_revert', [snapshot])).toBe(true);
      await register(survivor);
      await rpc('anvil_mine', ['0x1']);
      // This pass finds the fork and rolls back; nothing of the new chain is read yet.
      expect((await mirror.syncOnce()).reorg).toMatchObject({ removed: 3 });
      // A stream starting at `newest` now starts after the removals: it is told nothing of events it never had.
      const newest = await latestSeq(db, ledger);
      expect(newest).toBeGreaterThan(delivered.at(-1)!.id);
      expect(await eventsAfter(db, ledger, filter, newest, 10)).toEqual([]);
      // Nor is a stream whose cursor had not reached them.
      const behind = await eventsAfter(db, ledger, filter, start, 10);
      expect(behind.filter((event) => event.removed)).toEqual([]);
      await mirror.catchUp();

      const expected = [
        ...delivered.map((row, i) => ({ id: ids[i], name: row.name, removed: true, removedSeq: row.id })),
        { name: 'Transfer', parts: [survivor] },
        { name: 'PartRegistered', parts: [survivor] },
      ];
      await until(
        'every stream has the removals and the new chain',
        () => hooks.length >= 8 && socketEvents.length >= 8 && sseEvents.length >= 8,
      );
      for (const received of [hooks, socketEvents, sseEvents.map((entry) => entry.event)]) {
        expect(received.slice(0, 3).map((event) => event.id)).toEqual(ids);
        expect(received.slice(3)).toMatchObject(expected);
        expect(received.slice(3).map((event) => event.removed)).toEqual([true, true, true, undefined, undefined]);
        // In order, through each stream's one cursor.
        const seqs = received.map((event) => event.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      expect(sseEvents.slice(3).map((entry) => entry.type)).toEqual(['removed', 'removed', 'removed', 'Transfer', 'PartRegistered']);
      // The topic sends a removal as a message of its own, marked for subscription rules.
      const removal = topicMessageOf(hooks[3]!);
      expect(removal.messageId).not.toBe(topicMessageOf(hooks[0]!).messageId);
      expect(removal.applicationProperties).toMatchObject({ removed: true, eventType: 'Transfer' });
      await mirrorMatchesChain();
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }
  });

  // Two processes share the mirror only on PostgreSQL (PGlite is one process's): CI runs it there.
  it.skipIf(!inject('databaseUrl'))(
    'loses and duplicates nothing when `tracewell listener` is killed mid-stream and restarted',
    async () => {
      const databaseUrl = inject('databaseUrl');
      const env = {
        ...process.env,
        DATABASE_URL: databaseUrl,
        CHAIN_RPC_URL: chain.rpcUrl,
        PART_REGISTRY_ADDRESS: registry.address,
        LEDGER_BATCH_BLOCKS: '1',
        LEDGER_POLL_MS: '20',
      };
      // Node itself with tsx's loader: the tsx command would run the listener in a child process of its
      // own, which SIGKILL would leave running.
      const run = (): ChildProcess =>
        spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app', 'cli', 'tracewell.ts'), 'listener'], {
          cwd: ROOT,
          env,
          stdio: 'ignore',
        });
      // By chain too: the run's other stacks deploy a PartRegistry at this same address on their chains.
      const cursor = async () => {
        const [row] = await database.db
          .select()
          .from(ledgerCursors)
          .where(and(eq(ledgerCursors.chainId, CHAIN_ID), eq(ledgerCursors.address, registry.address)));
        return BigInt(row!.blockNumber);
      };
      // `tracewell listener` starts only on a deployed chain: record this file's contract as the chain's
      // deployment, an external PartRegistry (PART_REGISTRY_ADDRESS) as `tracewell deploy` records it.
      // No seeding here: its role grants would be events this test does not count.
      const deployment = { ...deploymentInputs(testAppConfig()), registryBytecodeHash: null };
      await recordDeployment(database.db, {
        ...deployment,
        chainId: CHAIN_ID,
        partRegistry: registry.address,
        schemaTag: knownMigrations().at(-1)!.tag,
      });
      const before = (await mirrored()).length;
      const reorgsOf = async () =>
        (
          await database.db
            .select()
            .from(ledgerReorgs)
            .where(and(eq(ledgerReorgs.chainId, CHAIN_ID), eq(ledgerReorgs.address, registry.address)))
        ).length;
      // The file's reorganisation tests ran before: a kill and a restart must add none.
      const reorgsBefore = await reorgsOf();
      for (let i = 0; i < 12; i += 1) await register();
      let child = run();
      // Killed while it is still working through the blocks, one per pass.
      await until('the listener halfway', async () => (await mirrored()).length >= before + 6, 60_000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const atKill = (await mirrored()).length;
      for (let i = 0; i < 4; i += 1) await register();
      child = run();
      try {
        const head = await chain.client.getBlockNumber({ cacheTime: 0 });
        await until('the restarted listener at the head', async () => (await cursor()) >= head, 60_000);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      expect(atKill).toBeLessThan(before + 32);
      expect({ rows: (await mirrored()).length, reorgs: await reorgsOf() }).toEqual({ rows: before + 32, reorgs: reorgsBefore });
      await mirrorMatchesChain();
    },
  );

  it('verify checks the mirror against the head anchored on chain: rewriting rows and every later hash shows', async () => {
    // A contract of this test's own: its anchors and the rewrite disturb no other test's mirror.
    const hash = await wallet(admin).deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
    const deployed = await chain.client.waitForTransactionReceipt({ hash });
    const own = new PartRegistry(chain.client, getAddress(deployed.contractAddress!));
    // The anchoring registrar has a key of its own: the transaction manager keeps its nonces, the test's wallets fetch theirs.
    const registrar = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 5 });
    for (const account of [alice, registrar]) {
      const grant = await wallet(admin).sendTransaction({ to: own.address, data: own.grantRoleCall(REGISTRAR_ROLE, account.address) });
      await chain.client.waitForTransactionReceipt({ hash: grant });
    }
    const ledger = { chainId: CHAIN_ID, address: own.address };
    const mirror = new LedgerListener(database.db, own, CHAIN_ID, { startBlock: deployed.blockNumber });
    listeners.push(mirror);
    const registerOwn = async () => {
      const tx = await wallet(alice).sendTransaction({ to: own.address, data: own.registerCall(uniqueId(), zeroHash, []) });
      await chain.client.waitForTransactionReceipt({ hash: tx });
    };
    const rowsOf = () =>
      database.db
        .select()
        .from(ledgerEvents)
        .where(and(eq(ledgerEvents.chainId, CHAIN_ID), eq(ledgerEvents.address, own.address)))
        .orderBy(asc(ledgerEvents.id));
    const verifyOwn = () => verifyMirror(database.db, chain.client, ledger);

    await registerOwn();
    await mirror.catchUp();
    // Not anchored yet: verify says so, and passes (nothing to compare with).
    expect(await verifyOwn()).toMatchObject({ ok: true, anchor: null });
    // Anchored every (events so far + 2) events: not yet due; due after one more registration (2 events).
    const sofar = (await rowsOf()).length;
    const txSender = new TransactionManager({
      db: database.db,
      locks: database,
      chain,
      registry: own.address,
      settings: DEFAULT_LEDGER_SETTINGS,
    });
    const anchorer = new MirrorAnchorer(
      { db: database.db, ledger, registry: own, txSender, account: registrar },
      { everyEvents: sofar + 2, everyMs: 0 },
    );
    expect(await anchorer.anchorOnce()).toBeUndefined();
    await registerOwn();
    await mirror.catchUp();
    const last = (await rowsOf()).at(-1)!;
    const anchored = (await anchorer.anchorOnce())!;
    expect(anchored).toMatchObject({ seq: last.id, head: last.hash });
    await mirror.catchUp();
    // Its own events (registering the anchor part, recording the head) are no reason to anchor again.
    expect(await anchorer.anchorOnce(true)).toBeUndefined();
    await txSender.close();
    await registerOwn();
    await mirror.catchUp();

    const clean = await verifyOwn();
    expect(clean.drift).toEqual([]);
    expect(clean.anchor).toMatchObject({ seq: anchored.seq, head: anchored.head, txHash: anchored.txHash, matches: true });

    // The file's other contract anchored too (one database, two ledgers): each has an anchor part of
    // its own, so neither verify finds the other's custody rows.
    await send(admin, registry.grantRoleCall(REGISTRAR_ROLE, registrar.address));
    const mainMirror = await listener();
    await mainMirror.catchUp();
    const mainSender = new TransactionManager({
      db: database.db,
      locks: database,
      chain,
      registry: registry.address,
      settings: DEFAULT_LEDGER_SETTINGS,
    });
    const mainAnchorer = new MirrorAnchorer(
      { db: database.db, ledger: { chainId: CHAIN_ID, address: registry.address }, registry, txSender: mainSender, account: registrar },
      { everyEvents: 1, everyMs: 0 },
    );
    expect(await mainAnchorer.anchorOnce(true)).toBeDefined();
    await mainSender.close();
    await mainMirror.catchUp();
    await mirrorMatchesChain();
    expect((await verifyOwn()).drift).toEqual([]);

    // The attack: a row before the anchor rewritten (who registered a part), and every later hash
    // recomputed so that the hash chain holds.
    const target = (await rowsOf()).find((row) => row.name === 'PartRegistered' && row.id < anchored.seq)!;
    const forged = { ...target.args, owner: bob.address };
    await rewrite(target.id, forged, own.address);
    const attacked = await verifyOwn();
    const kinds = attacked.drift.map((item) => item.kind);
    expect(kinds).not.toContain('hash_mismatch');
    expect(kinds).not.toContain('chain_broken');
    expect(attacked.ok).toBe(false);
    expect(attacked.anchor).toMatchObject({ seq: anchored.seq, matches: false });
    expect(attacked.drift.filter((item) => item.kind === 'anchor_mismatch')).toEqual([
      expect.objectContaining({
        seq: anchored.seq,
        txHash: anchored.txHash,
        message: expect.stringMatching(
          new RegExp(
            `^the mirror's head after row ${anchored.seq} is .* but the head anchored on chain in block \\d+ is ${anchored.head.slice(0, 12)}…: rows up to ${anchored.seq} were rewritten`,
          ),
        ),
      }),
    ]);
    expect(formatVerifyReport(attacked)).toContain('the mirror DOES NOT match it');

    // Put back, the mirror verifies clean against the same anchor.
    await rewrite(target.id, target.args, own.address);
    expect(await verifyOwn()).toMatchObject({ ok: true, drift: [], anchor: { seq: anchored.seq, matches: true } });
  });

  it('verify reports a mirrored row edited by hand, row by row', async () => {
    const rows = await mirrored();
    const target = rows.find((row) => row.name === 'Transfer' && row.args.toAddress === bob.address)!;
    await database.db.execute(
      sql`update ledger_events set args = jsonb_set(args, '{toAddress}', to_jsonb(${alice.address}::text)) where id = ${target.id}`,
    );
    const moved = rows.find((row) => row.name === 'PartRegistered')!;
    await database.db.execute(sql`update ledger_events set tx_hash = ${`0x${'ab'.repeat(32)}`} where id = ${moved.id}`);

    const report = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    expect(report.ok).toBe(false);
    const bySeq = (seq: number) =>
      report.drift
        .filter((item) => item.seq === seq)
        .map((item) => item.kind)
        .sort();
    // The edited transfer no longer matches its hash, nor the custody row it made.
    expect(bySeq(target.id)).toEqual(['hash_mismatch', 'projection']);
    expect(bySeq(moved.id)).toEqual(['different', 'hash_mismatch']);
    expect(report.drift.find((item) => item.kind === 'different')!.fields).toEqual([
      { field: 'txHash', mirror: `0x${'ab'.repeat(32)}`, chain: moved.txHash },
    ]);
    const orphaned = report.drift.filter((item) => item.kind === 'projection' && item.seq === undefined);
    expect(orphaned.map((item) => item.message)).toEqual([
      expect.stringMatching(/^ownership of .* to 0x[0-9a-fA-F]{40} has no Transfer event behind it$/),
    ]);
    expect(orphaned[0]!.txHash).toBe(target.txHash);
    // This contract's head was anchored by the anchor test above: the rewrite shows against it too.
    expect(report.drift.filter((item) => item.kind === 'anchor_mismatch')).toHaveLength(1);
    expect(report.drift).toHaveLength(6);
  });

  it('verify reports a custody row changed by hand', async () => {
    const partId = await register();
    await (await listener()).catchUp();
    const before = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    await database.db.update(ownership).set({ toAddress: bob.address }).where(eq(ownership.partId, partId));
    const after = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    const added = after.drift.filter((item) => !before.drift.some((earlier) => earlier.message === item.message));
    expect(added.map((item) => item.kind)).toEqual(['projection', 'projection']);
    expect(added.map((item) => item.message).sort()).toEqual([
      `Transfer of ${partId} has no ownership row`,
      `ownership of ${partId} to ${bob.address} has no Transfer event behind it`,
    ]);
  });
});

/** Calls `onEvent` with the type and data of each Server-Sent Event of `body` until it ends. */
async function readSse(body: ReadableStream<Uint8Array>, onEvent: (type: string, data: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const field = (name: string) =>
        lines
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trimStart();
      const data = field('data');
      if (data !== undefined) onEvent(field('event') ?? 'message', data);
    }
  }
}

/**
 * Rewrites one mirrored row's arguments as a writer with SQL access would, recomputing the hash of
 * that row and of every later row of the contract so that the hash chain holds again.
 */
async function rewrite(seq: number, args: Record<string, unknown>, address: string): Promise<void> {
  await database.db.transaction(async (tx) => {
    await tx.update(ledgerEvents).set({ args }).where(eq(ledgerEvents.id, seq));
    const later = await tx
      .select()
      .from(ledgerEvents)
      .where(and(eq(ledgerEvents.chainId, CHAIN_ID), eq(ledgerEvents.address, address), gte(ledgerEvents.id, seq)))
      .orderBy(asc(ledgerEvents.id));
    let prev = later[0]!.prevHash;
    for (const row of later) {
      const hash = eventHash(prev, row);
      await tx.update(ledgerEvents).set({ prevHash: prev, hash }).where(eq(ledgerEvents.id, row.id));
      prev = hash;
    }
  });
}
