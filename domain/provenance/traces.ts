// Backward and forward traces as API answers: the linked parts found by the recursive queries of
// db/provenance.ts, each with its lifecycle, status, holder, certificates and custody history.
import type { Db } from '../../db/client.js';
import { MAX_TRACE_NODES, backwardLinks, forwardLinks, partFacts } from '../../db/provenance.js';
import type { CertificateRow, CustodyRow, LinkRow } from '../../db/provenance.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

function certificateView(row: CertificateRow, now: Date) {
  return {
    kind: row.kind,
    documentHash: row.documentHash,
    issuer: row.issuerId,
    issuerAddress: row.issuerAddress,
    validUntil: row.validUntil?.toISOString() ?? null,
    valid: row.validUntil === null || row.validUntil > now,
    txHash: row.txHash,
    attachedAt: row.attachedAt.toISOString(),
  };
}

function custodyView(row: CustodyRow) {
  return {
    from: row.fromId,
    to: row.toId,
    fromAddress: row.fromAddress,
    toAddress: row.toAddress,
    txHash: row.txHash,
    blockNumber: row.blockNumber,
    at: row.at?.toISOString() ?? null,
  };
}

function linkView(row: LinkRow) {
  return {
    link: row.link,
    linkedTx: row.linked_tx,
    linkedAt: row.linked_at?.toISOString() ?? null,
    ...(row.link === 'content' ? { unlinkedAt: row.unlinked_at?.toISOString() ?? null } : {}),
  };
}

type Facts = Awaited<ReturnType<typeof partFacts>>;

function nodeView(id: string, facts: Facts, now: Date) {
  const part = facts.parts.get(id);
  return {
    id,
    lifecycle: part?.lifecycle ?? null,
    status: part?.status ?? null,
    owner: part?.ownerId ?? null,
    decommissionedAt: part?.decommissionedAt?.toISOString() ?? null,
    certificates: (facts.certificates.get(id) ?? []).map((row) => certificateView(row, now)),
    custody: (facts.custody.get(id) ?? []).map(custodyView),
  };
}

export type TraceShape = 'tree' | 'graph';

/**
 * What `partId` is made of. As a `tree`, a part shared by several paths (a wafer under each of its
 * chips) appears under each; as a `graph`, every part appears once with links to its inputs, which
 * keeps large traces small.
 */
export async function backwardTrace(db: Db, id: string, shape: TraceShape = 'tree') {
  const rows = await backwardLinks(db, id);
  if (rows.length > MAX_TRACE_NODES) {
    // More nodes than an answer may carry.
    throw new CodedError(Errors.trace_too_large, { id, limit: MAX_TRACE_NODES });
  }
  // A part's inputs are the same on every path to it, so both shapes are built from links by parent.
  const inputs = new Map<string, Map<string, LinkRow>>();
  for (const row of rows) {
    if (row.from_id === null) continue;
    const children = inputs.get(row.from_id) ?? new Map<string, LinkRow>();
    children.set(`${row.part_id}|${row.link}|${row.linked_tx}`, row);
    inputs.set(row.from_id, children);
  }
  const ids = [...new Set(rows.map((row) => row.part_id))];
  const facts = await partFacts(db, ids);
  const now = new Date();
  const depth = rows.reduce((max, row) => Math.max(max, row.depth), 0);
  const inputsOf = (partId: string) => [...(inputs.get(partId)?.values() ?? [])];
  if (shape === 'graph') {
    const nodes = ids.map((partId) => ({
      ...nodeView(partId, facts, now),
      components: inputsOf(partId).map((row) => ({ id: row.part_id, ...linkView(row) })),
    }));
    return { shape, root: id, nodes, parts: facts.parts.size, depth };
  }
  const build = (partId: string, seen: Set<string>): Record<string, unknown> => {
    const path = new Set(seen).add(partId);
    const children = inputsOf(partId).filter((row) => !seen.has(row.part_id));
    return { ...nodeView(partId, facts, now), components: children.map((row) => ({ ...linkView(row), ...build(row.part_id, path) })) };
  };
  return { shape, part: build(id, new Set()), parts: facts.parts.size, depth };
}

/** Every bundle, derived part and product `partId` reached, and everyone who held any of them. */
export async function forwardTrace(db: Db, id: string) {
  const rows = await forwardLinks(db, id);
  const facts = await partFacts(
    db,
    rows.map((row) => row.part_id),
  );
  const now = new Date();
  const reached = rows
    .filter((row) => row.part_id !== id)
    .sort((a, b) => a.depth - b.depth || a.part_id.localeCompare(b.part_id))
    .map((row) => ({ ...nodeView(row.part_id, facts, now), via: row.from_id, depth: row.depth, ...linkView(row) }));
  // Everyone who held any of these parts, with when they first and last received one.
  const holders = new Map<
    string,
    { participant: string | null; address: string; parts: Set<string>; firstAt: string | null; lastAt: string | null }
  >();
  for (const [partId, custody] of facts.custody) {
    for (const change of custody) {
      if (!change.toAddress) continue;
      const at = change.at?.toISOString() ?? null;
      const holder = holders.get(change.toAddress) ?? {
        participant: change.toId,
        address: change.toAddress,
        parts: new Set<string>(),
        firstAt: at,
        lastAt: at,
      };
      holder.parts.add(partId);
      if (at && (!holder.firstAt || at < holder.firstAt)) holder.firstAt = at;
      if (at && (!holder.lastAt || at > holder.lastAt)) holder.lastAt = at;
      holders.set(change.toAddress, holder);
    }
  }
  return {
    part: nodeView(id, facts, now),
    reached,
    products: reached.filter((part) => part.link === 'component').map((part) => part.id),
    bundles: reached.filter((part) => part.link === 'content').map((part) => part.id),
    holders: [...holders.values()].map((holder) => ({ ...holder, parts: [...holder.parts].sort() })),
  };
}
