// What a phase's chain writes cost, from what the run recorded: the chain_txs rows written since the
// phase began, their receipts' gasUsed, and the ledger_events rows (mirrored by the listener) those
// transactions produced. A "part event" is one mirrored event naming a part (a mint's Transfer and
// PartRegistered are two, a transfer's Transfer is one).
import type { Hex, PublicClient } from 'viem';
import { parseAbiItem } from 'viem';

/** Runs one SQL statement (no parameters) and answers its rows. */
export type Query = (text: string) => Promise<Record<string, unknown>[]>;

export interface ChainFigures {
  transactions: number;
  /** Transactions that reverted (their gas counts too). */
  reverted: number;
  /** chain_txs rows another transaction took the nonce of. */
  replaced: number;
  partEvents: number;
  /** Write intents the sent transactions carry (chain_txs.items: 1 each until writes are batched). */
  items: number;
  gasUsed: bigint;
}

/** The database's clock now, as a timestamp literal: where a phase's rows begin. */
export async function databaseNow(query: Query): Promise<string> {
  const [row] = await query('select now()::text as now');
  return String(row!.now);
}

const phaseTxs = (since: string) =>
  `select tx_hash from chain_txs where created_at >= '${since}'::timestamptz and status in ('mined', 'reverted')`;

/** Waits until the listener has mirrored an event of every mined transaction of the phase. */
async function mirrored(query: Query, since: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await query(
      `select count(*)::int as n from chain_txs c where c.created_at >= '${since}'::timestamptz and c.status = 'mined'
       and not exists (select 1 from ledger_events e where e.tx_hash = c.tx_hash)`,
    );
    if (Number(row!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} mined transactions still have no mirrored event after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function chainFigures(query: Query, chain: PublicClient, since: string): Promise<ChainFigures> {
  await mirrored(query, since);
  const txs = await query(
    `select tx_hash, status, items from chain_txs where created_at >= '${since}'::timestamptz and status in ('mined', 'reverted', 'replaced')`,
  );
  const [events] = await query(
    `select count(*)::int as n from ledger_events where tx_hash in (${phaseTxs(since)}) and cardinality(part_ids) > 0`,
  );
  const sentRows = txs.filter((row) => row.status !== 'replaced');
  const sent = sentRows.map((row) => row.tx_hash as Hex);
  let gasUsed = 0n;
  for (let i = 0; i < sent.length; i += 20) {
    const receipts = await Promise.all(sent.slice(i, i + 20).map((hash) => chain.getTransactionReceipt({ hash })));
    for (const receipt of receipts) gasUsed += receipt.gasUsed;
  }
  return {
    transactions: sent.length,
    reverted: txs.filter((row) => row.status === 'reverted').length,
    replaced: txs.filter((row) => row.status === 'replaced').length,
    partEvents: Number(events!.n),
    items: sentRows.reduce((sum, row) => sum + Number(row.items), 0),
    gasUsed,
  };
}

const partRegistered = parseAbiItem(
  'event PartRegistered(uint256 indexed tokenId, string partId, address indexed owner, bytes32 metadataHash)',
);

/** How many PartRegistered events the chain holds for each part whose id starts with `prefix`. */
export async function registrationsOnChain(chain: PublicClient, registry: Hex, prefix: string): Promise<Map<string, number>> {
  const logs = await chain.getLogs({ address: registry, event: partRegistered, fromBlock: 0n, toBlock: 'latest' });
  const counts = new Map<string, number>();
  for (const log of logs) {
    const id = log.args.partId!;
    if (id.startsWith(prefix)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
