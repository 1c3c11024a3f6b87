// `npm run bench:trace [-- --components 1000 --runs 200 --background 20000]`: the backward trace of
// a product made of N chips (chips from wafers, wafers from ore lots), as GET /parts/:id/trace/backward
// answers it, and the forward trace of one of its ore lots. The SQL mirror is seeded directly (no
// chain, no workflows), next to unrelated parts so the tables are realistic; then it prints trace
// latency percentiles, the query plans of the recursive query and of partFacts, which indexes they
// use, and peak memory. Exits non-zero if the recursive query seq-scans part_links. A benchmark, not a test.
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { SQL, SQLWrapper } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';
import { openDatabase } from '../../db/client.js';
import type { Db } from '../../db/client.js';
import { backwardLinks, forwardLinks, partFacts } from '../../db/provenance.js';
import { certificates, ownership, participants, partLinks, parts } from '../../db/schema.js';
import type { PartLinkKind } from '../../db/schema.js';
import { tokenIdOf } from '../../domain/chain/part-registry.js';
import { backwardTrace, forwardTrace } from '../../domain/provenance/traces.js';
import { percentile, runBenchmark } from './support.js';

const { values } = parseArgs({
  options: {
    components: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '200' },
    background: { type: 'string', default: '20000' },
    /** Leave the tables without statistics (as before autovacuum's first analyze), to see those plans. */
    'skip-analyze': { type: 'boolean', default: false },
  },
});
const components = Number(values.components);
const runs = Number(values.runs);
const background = Number(values.background);
const WARMUP = 10;
const BATCH = 1000;
const CHIPS_PER_WAFER = 20;
const WAFERS_PER_LOT = 10;
const BACKGROUND_COMPONENTS = 50;
/** The tables a provenance query must reach through an index, never by reading them whole. */
const BIG_TABLES = ['part_links', 'certificates', 'ownership', 'parts'];

// ---- the seed -------------------------------------------------------------------------------------

const hex = (seed: string, chars: number) => `0x${createHash('sha256').update(seed).digest('hex').slice(0, chars)}`;
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

const PARTICIPANTS = ['mine', 'fab', 'lab', 'assembler', 'distributor', 'retailer'].map((name, i) => ({
  id: `bench-${name}`,
  name,
  roles: [name],
  address: hex(`participant:${name}`, 40),
  keyRef: `hd:${i + 1}`,
}));
const participant = (name: string) => PARTICIPANTS.find((p) => p.id === `bench-${name}`)!;

type Level = 'lot' | 'wafer' | 'chip' | 'product';
/** Who holds a part of each level in turn (first one mints it); the last holds it now. */
const CUSTODY: Record<Level, string[]> = {
  lot: ['mine', 'fab'],
  wafer: ['fab', 'lab', 'fab'],
  chip: ['fab', 'assembler'],
  product: ['assembler', 'distributor', 'retailer'],
};
const LIFECYCLE: Record<Level, string> = { lot: 'ore-lot', wafer: 'wafer', chip: 'chip', product: 'assembly' };

class Seed {
  parts: (typeof parts.$inferInsert)[] = [];
  links: (typeof partLinks.$inferInsert)[] = [];
  certificates: (typeof certificates.$inferInsert)[] = [];
  ownership: (typeof ownership.$inferInsert)[] = [];
  private tx = 0;
  private readonly start = Date.parse('2024-01-01T00:00:00Z');

  /** A new transaction: its hash, block number and time (one block every 12 s). */
  private nextTx() {
    this.tx += 1;
    return { txHash: hex(`tx:${this.tx}`, 64), blockNumber: String(1_000_000 + this.tx), at: new Date(this.start + this.tx * 12_000) };
  }

  part(id: string, level: Level): string {
    const holders = CUSTODY[level];
    this.parts.push({
      id,
      tokenId: tokenIdOf(id).toString(),
      lifecycle: LIFECYCLE[level],
      lifecycleVersion: 1,
      status: 'completed',
      ownerId: participant(holders.at(-1)!).id,
      params: { level },
    });
    let from: { id: string | null; address: string } = { id: null, address: ZERO_ADDRESS };
    for (const name of holders) {
      const to = participant(name);
      const tx = this.nextTx();
      this.ownership.push({ partId: id, fromId: from.id, toId: to.id, fromAddress: from.address, toAddress: to.address, ...tx });
      from = { id: to.id, address: to.address };
    }
    // A quality certificate for every part; an origin certificate for lots, wafers, products and every other chip.
    const kinds = level === 'chip' && this.parts.length % 2 === 0 ? ['quality'] : ['quality', 'origin'];
    for (const kind of kinds) {
      const issuer = participant(kind === 'origin' && level === 'lot' ? 'mine' : 'lab');
      const tx = this.nextTx();
      this.certificates.push({
        partId: id,
        documentHash: hex(`document:${id}:${kind}`, 64),
        kind,
        issuerAddress: issuer.address,
        issuerId: issuer.id,
        validUntil: kind === 'quality' ? new Date(tx.at.getTime() + 2 * 365 * 86_400_000) : null,
        txHash: tx.txHash,
        attachedAt: tx.at,
      });
    }
    return id;
  }

  link(parentId: string, childId: string, kind: PartLinkKind): void {
    const tx = this.nextTx();
    this.links.push({ parentId, childId, kind, linkedTx: tx.txHash, linkedAt: tx.at });
  }
}

/** Hands out the wafer for the next chip: a new wafer every CHIPS_PER_WAFER chips, a new ore lot every WAFERS_PER_LOT wafers. */
function waferSupply(seed: Seed, prefix: string) {
  let chips = 0;
  let wafers = 0;
  let wafer = '';
  let lot = '';
  const lots: string[] = [];
  return {
    lots,
    next(): string {
      if (chips % CHIPS_PER_WAFER === 0) {
        if (wafers % WAFERS_PER_LOT === 0) lots.push((lot = seed.part(`urn:bench:${prefix}:lot:${lots.length}`, 'lot')));
        wafer = seed.part(`urn:bench:${prefix}:wafer:${wafers}`, 'wafer');
        seed.link(wafer, lot, 'source');
        wafers += 1;
      }
      chips += 1;
      return wafer;
    },
  };
}

/** A product assembled from `count` chips, each derived from a wafer of `supply`. */
function product(seed: Seed, id: string, count: number, supply: ReturnType<typeof waferSupply>): void {
  seed.part(id, 'product');
  for (let i = 0; i < count; i++) {
    const chip = seed.part(`${id}:chip:${i}`, 'chip');
    seed.link(id, chip, 'component');
    seed.link(chip, supply.next(), 'source');
  }
}

async function insertAll(rows: Record<string, unknown>[], insert: (batch: any[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH) await insert(rows.slice(start, start + BATCH));
}

// ---- query plans ----------------------------------------------------------------------------------

interface Verdict {
  indexes: string[];
  seqScans: string[];
}

function verdictOf(plan: string[]): Verdict {
  const indexes = new Set<string>();
  const seqScans = new Set<string>();
  for (const [i, line] of plan.entries()) {
    const index = /(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+) on (\S+)/.exec(line) ?? /Bitmap Index Scan on (\S+)/.exec(line);
    if (index) {
      // A node's details are the lines up to its first child (`->`); without an Index Cond the index is
      // only walked whole for its order, which reads the table as a seq scan would.
      const end = plan.findIndex((next, j) => j > i && next.includes('->'));
      const details = plan.slice(i + 1, end === -1 ? plan.length : end);
      indexes.add(details.some((detail) => detail.includes('Index Cond:')) ? index[1]! : `${index[1]} (walked whole, no Index Cond)`);
    }
    const seq = /Seq Scan on (\S+)/.exec(line);
    if (seq && BIG_TABLES.includes(seq[1]!)) seqScans.add(seq[1]!);
  }
  return { indexes: [...indexes], seqScans: [...seqScans] };
}

/** A `Db` whose selects are recorded: the query builders partFacts makes, to EXPLAIN them as they are. */
function recordingSelects(db: Db): { db: Db; queries: SQLWrapper[] } {
  const queries: SQLWrapper[] = [];
  const recording = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'select') return Reflect.get(target, property, receiver);
      return (...args: unknown[]) => {
        const builder = (target.select as (...a: unknown[]) => any)(...args);
        return new Proxy(builder, {
          get(b, p, r) {
            if (p !== 'from') return Reflect.get(b, p, r);
            return (...fromArgs: unknown[]) => {
              // where() and orderBy() complete this same builder, so it is the whole query once awaited.
              const query = b.from(...fromArgs);
              queries.push(query);
              return query;
            };
          },
        });
      };
    },
  });
  return { db: recording, queries };
}

/** The traced product (with its ore lots) and background products until `background` unrelated parts exist. */
async function seedMirror(db: Db) {
  const s0 = performance.now();
  const seed = new Seed();
  const productId = 'urn:bench:product:traced';
  const supply = waferSupply(seed, 'traced');
  product(seed, productId, components, supply);
  const tracedParts = seed.parts.length;
  const backgroundSupply = waferSupply(seed, 'bg');
  for (let n = 0; seed.parts.length - tracedParts < background; n++)
    product(seed, `urn:bench:bg:product:${n}`, BACKGROUND_COMPONENTS, backgroundSupply);
  await db.insert(participants).values(PARTICIPANTS);
  await insertAll(seed.parts, (batch) => db.insert(parts).values(batch));
  await insertAll(seed.links, (batch) => db.insert(partLinks).values(batch));
  await insertAll(seed.certificates, (batch) => db.insert(certificates).values(batch));
  await insertAll(seed.ownership, (batch) => db.insert(ownership).values(batch));
  const seedS = (performance.now() - s0) / 1000;
  if (!values['skip-analyze']) await db.execute(sql`analyze participants, parts, part_links, certificates, ownership`);
  return { productId, lotId: supply.lots[0]!, backgroundParts: seed.parts.length - tracedParts, seedS };
}

/** Runs `trace` `warmup` times, then `times` times timed: the sorted durations (ms) and the last answer. */
async function timeRuns<T>(times: number, trace: () => Promise<T>, warmup = WARMUP): Promise<{ ms: number[]; last: T }> {
  for (let i = 0; i < warmup; i++) await trace();
  const ms: number[] = [];
  let last!: T;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    last = await trace();
    ms.push(performance.now() - t0);
  }
  return { ms: ms.sort((a, b) => a - b), last };
}

/** The traces, and the backward trace's two queries alone (the rest is building the tree in JS). */
async function timeTraces(db: Db, productId: string, lotId: string) {
  const backward = await timeRuns(runs, () => backwardTrace(db, productId));
  // The same trace as a graph (each part once): what a large product's answer costs without repetition.
  const graph = await timeRuns(runs, () => backwardTrace(db, productId, 'graph'));
  const forward = await timeRuns(runs, () => forwardTrace(db, lotId));
  const tracedIds = [...new Set((await backwardLinks(db, productId)).map((row) => row.part_id))];
  const stepRuns = Math.max(20, Math.ceil(runs / 4));
  const links = await timeRuns(stepRuns, () => backwardLinks(db, productId), 0);
  const facts = await timeRuns(stepRuns, () => partFacts(db, tracedIds), 0);
  return { backward, graph, forward, tracedIds, stepRuns, linksMs: links.ms, factsMs: facts.ms };
}

/**
 * Query plans: the recursive queries exactly as db/provenance.ts builds them (its `db.execute` is handed
 * the EXPLAIN instead), and partFacts' three selects for the parts of the backward trace; for a select the
 * planner answers with a seq scan, also the plan it would use with seq scans off.
 */
async function queryPlans(db: Db, productId: string, lotId: string, tracedIds: string[]) {
  const buffers = await db.execute(sql`explain (analyze, buffers) select 1`).then(
    () => true,
    () => false,
  );
  const explain = async (query: SQL): Promise<string[]> => {
    const result = (await db.execute(buffers ? sql`explain (analyze, buffers) ${query}` : sql`explain analyze ${query}`)) as unknown as {
      rows: Record<string, string>[];
    };
    return result.rows.map((row) => Object.values(row)[0]!);
  };
  const explaining = (into: string[][]) =>
    ({ execute: async (query: SQL) => (into.push(await explain(query)), { rows: [] }) }) as unknown as Db;
  const recursivePlans: string[][] = [];
  await backwardLinks(explaining(recursivePlans), productId);
  await forwardLinks(explaining(recursivePlans), lotId);
  const recording = recordingSelects(db);
  await partFacts(recording.db, tracedIds);
  if (recording.queries.length !== 3) throw new Error(`expected partFacts to make 3 selects, recorded ${recording.queries.length}`);
  const factPlans: string[][] = [];
  const withoutSeqScans = new Map<string[], string[]>();
  for (const query of recording.queries) {
    const text = query.getSQL();
    if (!/ in \(/.test(new PgDialect().sqlToQuery(text).sql))
      throw new Error('a recorded partFacts select has no `in (…)` filter: the recording missed its where()');
    const plan = await explain(text);
    factPlans.push(plan);
    if (verdictOf(plan).seqScans.length) withoutSeqScans.set(plan, await planWithoutSeqScans(db, text));
  }
  const plans: [string, string[]][] = [
    ['backwardLinks (recursive, from the product)', recursivePlans[0]!],
    ['forwardLinks (recursive, from an ore lot)', recursivePlans[1]!],
    [`partFacts: parts (${tracedIds.length} ids)`, factPlans[0]!],
    [`partFacts: certificates (${tracedIds.length} ids)`, factPlans[1]!],
    [`partFacts: ownership (${tracedIds.length} ids)`, factPlans[2]!],
  ];
  return { buffers, plans, withoutSeqScans };
}

/** The plan the planner would use with seq scans off (is an index there, and is it faster?). */
function planWithoutSeqScans(db: Db, query: SQL): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    const result = (await tx.execute(sql`explain analyze ${query}`)) as unknown as { rows: Record<string, string>[] };
    return result.rows.map((row) => Object.values(row)[0]!);
  });
}

/** Each plan, its id lists abbreviated, then which indexes it uses and whether it seq-scans a big table. */
function planLines(plans: [string, string[]][], withoutSeqScans: Map<string[], string[]>): string[] {
  const lines: string[] = [];
  // The id lists of partFacts are long: print their first values and how many there are.
  const abbreviated = (line: string) =>
    line.replace(/'\{([^}]*)\}'::text\[\]/g, (whole, list: string) => {
      const ids = list.split(',');
      return ids.length <= 3 ? whole : `'{${ids.slice(0, 2).join(',')},… ${ids.length} values}'::text[]`;
    });
  for (const [name, plan] of plans) lines.push('', `-- ${name}`, ...plan.map((line) => `   ${abbreviated(line)}`));
  lines.push('', 'Index verdicts:');
  const executionMs = (plan: string[]) => /Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? '?';
  for (const [name, plan] of plans) {
    const verdict = verdictOf(plan);
    const walked = verdict.indexes.some((index) => index.includes('walked whole'));
    const seq = verdict.seqScans.length
      ? `SEQ SCAN on ${verdict.seqScans.join(', ')}`
      : walked
        ? 'no seq scan, but an index read whole'
        : 'no seq scan on the big tables';
    lines.push(`  ${name.padEnd(46)} indexes: ${verdict.indexes.join(', ') || 'none'}; ${seq}`);
    const alternative = withoutSeqScans.get(plan);
    if (alternative) {
      lines.push(
        `  ${''.padEnd(46)} (the planner's choice by cost: with seq scans off it uses ${verdictOf(alternative).indexes.join(', ') || 'no index'}, ${executionMs(alternative)} ms vs ${executionMs(plan)} ms)`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  let dropDatabase: (() => Promise<void>) | undefined;
  let url: string | undefined;
  if (process.env.DATABASE_URL) {
    const created = await createScratchDatabase(process.env.DATABASE_URL, 'tracewell_bench');
    url = created.url;
    dropDatabase = created.drop;
  }
  const database = await openDatabase({ url });
  try {
    const { db } = database;
    await database.migrate();
    const { productId, lotId, backgroundParts, seedS } = await seedMirror(db);
    const { backward, graph, forward, tracedIds, stepRuns, linksMs, factsMs } = await timeTraces(db, productId, lotId);
    const { buffers, plans, withoutSeqScans } = await queryPlans(db, productId, lotId, tracedIds);

    const treeNodes = (node: Record<string, unknown>): number =>
      1 + (node.components as Record<string, unknown>[]).reduce((sum, child) => sum + treeNodes(child), 0);
    const ms = (sorted: number[], p: number) => `p${p} ${percentile(sorted, p).toFixed(1)} ms`;
    const rowCount = async (table: string) =>
      Number(((await db.execute(sql.raw(`select count(*)::int as n from ${table}`))) as unknown as { rows: { n: number }[] }).rows[0]!.n);
    const counts = await Promise.all(BIG_TABLES.map(async (table) => `${table} ${await rowCount(table)}`));
    const lines = [
      `Tracewell trace benchmark: SQL ${database.kind}; the SQL mirror is seeded directly (no chain, no workflows),`,
      `so this measures the provenance queries and the trace assembly (backwardTrace/forwardTrace), not the API.`,
      `  seed                a product of ${components} chips (${CHIPS_PER_WAFER} chips a wafer, ${WAFERS_PER_LOT} wafers an ore lot) + ${backgroundParts} background parts in ${seedS.toFixed(1)} s`,
      `  rows                ${counts.join(', ')}; ${values['skip-analyze'] ? 'NOT analyzed' : 'analyzed'}`,
      `  backward trace      ${runs} runs: ${ms(backward.ms, 50)}, ${ms(backward.ms, 95)}, ${ms(backward.ms, 99)}, max ${backward.ms.at(-1)!.toFixed(1)} ms`,
      `                      ${treeNodes(backward.last.part as Record<string, unknown>)} tree nodes, ${backward.last.parts} distinct parts, depth ${backward.last.depth}, ${Buffer.byteLength(JSON.stringify(backward.last))} bytes`,
      `  backward as graph   ${runs} runs (?shape=graph): ${ms(graph.ms, 50)}, ${ms(graph.ms, 95)}, ${ms(graph.ms, 99)}; ${Buffer.byteLength(JSON.stringify(graph.last))} bytes`,
      `                      alone: backwardLinks ${ms(linksMs, 50)}, partFacts ${ms(factsMs, 50)} (${stepRuns} runs each); the rest is assembling the answer in JS`,
      `  forward trace       ${runs} runs from ${lotId}: ${ms(forward.ms, 50)}, ${ms(forward.ms, 99)}`,
      `                      ${forward.last.reached.length} parts reached, ${forward.last.products.length} product(s), ${forward.last.holders.length} holders, ${Buffer.byteLength(JSON.stringify(forward.last))} bytes`,
      `  peak RSS            ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (${database.kind === 'pglite' ? 'including PGlite' : 'this process; PostgreSQL runs apart'})`,
      '',
      `Query plans (EXPLAIN ${buffers ? '(ANALYZE, BUFFERS)' : 'ANALYZE'}):`,
      ...planLines(plans, withoutSeqScans),
    ];
    console.log(lines.join('\n'));
    const recursive = verdictOf(plans[0]![1]);
    if (recursive.seqScans.includes('part_links') || recursive.indexes.some((index) => index.includes('walked whole'))) {
      throw new Error(
        'regression: the backward recursive query reads part_links whole (seq scan) instead of looking links up by parent_id',
      );
    }
  } finally {
    await database.close();
    await dropDatabase?.();
  }
}

runBenchmark(main);
