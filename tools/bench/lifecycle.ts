// `npm run bench [-- --parts 200 --concurrency 20]`: drives parts through the whole slice over HTTP
// on the embedded stack (part-basic: create → mint → await sale → transfer, each part a workflow with
// real chain writes) and
// prints throughput, lifecycle latency percentiles and peak memory, and the SQL mirror's lag behind the
// chain under that load. A benchmark, not a test.
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { inArray, sql } from 'drizzle-orm';
import { createWalletClient, http, zeroHash } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { ledgerEvents } from '../../db/schema.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import { REGISTRAR_KEY_REF } from '../../domain/participants/keystore.js';
import { REGISTRAR_ROLE } from '../../domain/chain/part-registry.js';
import type { Stack } from '../../app/wiring/stack.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { freePortStackConfig, startStack } from '../../app/wiring/stack.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, percentile, runBenchmark } from './support.js';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
  },
});
const parts = Number(values.parts);
const concurrency = Number(values.concurrency);

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_API_KEY}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  }).catch((error: unknown) => {
    throw new Error(`POST ${url} failed: ${(error as Error).message}`);
  });
  return { status: response.status, body: await response.json() };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await benchEnvironment();
  const { config, temporal } = freePortStackConfig(bench.env);
  const startedAt = performance.now();
  const stack = await startStack({ config, temporal, startTemporal: true });
  stopOnSignal(stack.stop);
  const startupMs = performance.now() - startedAt;
  const run = `bench-${Date.now().toString(36)}`;

  try {
    // One part end to end on the part-basic lifecycle: create it and signal its sale at once (the
    // part keeps the signal until its await step takes it), then wait for its workflow's result.
    const lifecycle = async (index: number): Promise<number> => {
      const id = `urn:${run}:part:${index}`;
      const t0 = performance.now();
      const created = await post(`${stack.apiUrl}/parts`, { id, lifecycle: 'part-basic', params: { batch: `b-${index}` } });
      if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      const sold = await post(`${stack.apiUrl}/parts/${id}/signals/sold`, { buyer: 'northwind-logistics' });
      if (sold.status !== 202) throw new Error(`sold ${id}: ${sold.status} ${JSON.stringify(sold.body)}`);
      await stack.client.workflow.getHandle(id).result();
      return performance.now() - t0;
    };

    await lifecycle(-1); // warm-up: workflow cache, connections, JIT
    const probe = await startLagProbe(stack, run);
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, parts) }, async () => {
        while (next < parts) latencies.push(await lifecycle(next++));
      }),
    );
    const elapsedS = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const polled = await probe.stop();
    const written = await activityLag(stack);

    const database = stack.core.database.kind;
    console.log(
      [
        `Tracewell lifecycle benchmark: ${parts} parts, concurrency ${concurrency}, SQL ${database}, anvil automine`,
        `  stack start-up      ${(startupMs / 1000).toFixed(1)} s`,
        `  throughput          ${(parts / elapsedS).toFixed(1)} parts/s (${elapsedS.toFixed(1)} s; 2 chain writes per part)`,
        `  lifecycle latency   p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
        `  mirror lag, listener poll (chain event to SQL row, ${polled.length} probe events, LEDGER_POLL_MS ${config.LEDGER_POLL_MS})`,
        `                      p50 ${percentile(polled, 50).toFixed(0)} ms, p99 ${percentile(polled, 99).toFixed(0)} ms, max ${polled.at(-1)!.toFixed(0)} ms`,
        `  mirror lag, workflow writes (receipt to SQL row, ${written.length} transactions)`,
        `                      p50 ${percentile(written, 50).toFixed(0)} ms, p99 ${percentile(written, 99).toFixed(0)} ms, max ${written.at(-1)!.toFixed(0)} ms`,
        `  peak RSS            ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (API + worker + SQL process)`,
      ].join('\n'),
    );
  } catch (error) {
    if (process.env.BENCH_KEEP_ON_FAILURE) {
      console.error(`${(error as Error).message}\nstack kept for inspection: temporal at ${stack.temporalAddress}`);
      await new Promise((resolve) => setTimeout(resolve, 600_000));
    }
    throw error;
  } finally {
    await stack.stop();
    await bench.cleanup();
  }
}

/**
 * Events no activity waits for, sent while the load runs: an outside registrar (an anvil account the
 * stack does not use) registers a part every 100 ms. Each event's lag is from its transaction being
 * mined (anvil automines before it answers the send) to its row in SQL, which only the listener's
 * polling loop writes.
 */
async function startLagProbe(stack: Stack, run: string) {
  const { core } = stack;
  const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 19 });
  await core.txSender.send({
    key: `bench-probe-registrar:${account.address}:${core.registry.address}`,
    account: await core.keys.account(REGISTRAR_KEY_REF),
    to: core.registry.address,
    data: core.registry.grantRoleCall(REGISTRAR_ROLE, account.address),
    abi: partRegistryAbi,
    isDone: async () => false,
  });
  const wallet = createWalletClient({ account, chain: core.chain.client.chain, transport: http(stack.rpcUrl) });
  const sent = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    for (let index = 0; running; index += 1) {
      const data = core.registry.registerCall(`urn:${run}:probe:${index}`, zeroHash, []);
      const hash = await wallet.sendTransaction({ to: core.registry.address, data });
      sent.set(hash, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop(): Promise<number[]> {
      running = false;
      await loop;
      const db = stack.core.database.db;
      const hashes = [...sent.keys()];
      for (;;) {
        const rows = await db
          .select({ txHash: ledgerEvents.txHash, mirroredAt: ledgerEvents.mirroredAt })
          .from(ledgerEvents)
          .where(inArray(ledgerEvents.txHash, hashes));
        // Two events per registration (Transfer, PartRegistered).
        if (rows.length === 2 * hashes.length)
          return rows.map((row) => row.mirroredAt.getTime() - sent.get(row.txHash)!).sort((a, b) => a - b);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** For each workflow transaction: from its receipt (recorded as mined) to its first mirrored row. */
async function activityLag(stack: Stack): Promise<number[]> {
  const { rows } = (await stack.core.database.db.execute(sql`
    select extract(epoch from (min(e.mirrored_at) - c.updated_at)) * 1000 as lag
    from chain_txs c join ledger_events e on e.tx_hash = c.tx_hash
    where c.status = 'mined' and c.part_id is not null
    group by c.tx_hash, c.updated_at`)) as unknown as { rows: { lag: string }[] };
  return rows.map((row) => Number(row.lag)).sort((a, b) => a - b);
}

runBenchmark(main);
