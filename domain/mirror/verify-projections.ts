// The mirror's derived tables against its events: every custody row and certificate is backed by
// the event that made it (and every such event by its row), and each part's owner is the receiver
// of its last transfer. Scoped to the parts whose events the contract emitted.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { LedgerRef } from './event-log.js';
import type { Drift } from './drift.js';

interface Finding {
  seq: number | null;
  block_number: string | number | null;
  log_index: number | null;
  tx_hash: string | null;
  message: string;
}

async function rows(db: Db, query: ReturnType<typeof sql>): Promise<Finding[]> {
  return ((await db.execute(query)) as unknown as { rows: Finding[] }).rows;
}

export async function projectionDrift(db: Db, ledger: LedgerRef): Promise<Drift[]> {
  const ours = sql`e.chain_id = ${ledger.chainId} and e.address = ${ledger.address}`;
  const findings = await Promise.all([
    // Custody rows no Transfer event made.
    rows(
      db,
      sql`
      select null::int as seq, o.block_number, null::int as log_index, o.tx_hash,
        'ownership of ' || o.part_id || ' to ' || coalesce(o.to_address, '?') || ' has no Transfer event behind it' as message
      from ownership o
      where o.part_id in (select unnest(e.part_ids) from ledger_events e where ${ours} and e.name = 'Transfer')
        and not exists (select 1 from ledger_events e where ${ours} and e.name = 'Transfer' and e.tx_hash = o.tx_hash
          and e.part_ids[1] = o.part_id and lower(e.args->>'toAddress') = lower(o.to_address))`,
    ),
    // Transfer events without their custody row.
    rows(
      db,
      sql`
      select e.id as seq, e.block_number, e.log_index, e.tx_hash,
        'Transfer of ' || e.part_ids[1] || ' has no ownership row' as message
      from ledger_events e
      where ${ours} and e.name = 'Transfer'
        and not exists (select 1 from ownership o where o.tx_hash = e.tx_hash and o.part_id = e.part_ids[1]
          and lower(o.to_address) = lower(e.args->>'toAddress'))`,
    ),
    // Certificates no CertificateAttached event anchored, and such events without their certificate.
    rows(
      db,
      sql`
      select null::int as seq, null::bigint as block_number, null::int as log_index, c.tx_hash,
        'certificate ' || c.document_hash || ' of ' || c.part_id || ' has no CertificateAttached event behind it' as message
      from certificates c
      where c.part_id in (select unnest(e.part_ids) from ledger_events e where ${ours})
        and not exists (select 1 from ledger_events e where ${ours} and e.name = 'CertificateAttached' and e.tx_hash = c.tx_hash
          and e.part_ids[1] = c.part_id and lower(e.args->>'documentHash') = c.document_hash and e.args->>'kind' = c.kind)`,
    ),
    rows(
      db,
      sql`
      select e.id as seq, e.block_number, e.log_index, e.tx_hash,
        'CertificateAttached to ' || e.part_ids[1] || ' has no certificate row' as message
      from ledger_events e
      where ${ours} and e.name = 'CertificateAttached'
        and not exists (select 1 from certificates c where c.tx_hash = e.tx_hash and c.part_id = e.part_ids[1]
          and c.document_hash = lower(e.args->>'documentHash') and c.kind = e.args->>'kind')`,
    ),
    // A part's owner is whoever its last custody row hands it to.
    rows(
      db,
      sql`
      select null::int as seq, null::bigint as block_number, null::int as log_index, last.tx_hash,
        'part ' || p.id || ' is owned by ' || coalesce(p.owner_id, 'nobody') || ' but its last transfer went to ' || coalesce(last.to_id, last.to_address) as message
      from parts p
      join lateral (select o.to_id, o.to_address, o.tx_hash from ownership o where o.part_id = p.id order by o.id desc limit 1) last on true
      where p.id in (select unnest(e.part_ids) from ledger_events e where ${ours} and e.name = 'Transfer')
        and p.owner_id is distinct from last.to_id`,
    ),
  ]);
  return findings.flat().map((finding) => ({
    kind: 'projection' as const,
    ...(finding.seq === null ? {} : { seq: Number(finding.seq) }),
    blockNumber: Number(finding.block_number ?? -1),
    logIndex: finding.log_index ?? -1,
    txHash: finding.tx_hash ?? '',
    message: finding.message,
  }));
}
