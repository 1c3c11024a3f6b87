// What each PartRegistry event means for the SQL mirror: the parts and participants it concerns, its
// readable arguments, and its effect on the tables the provenance queries read (custody,
// certificates, the links between parts). Everything an event needs from the chain or SQL is read
// while preparing, so the listener's write transaction only writes.
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { decodeEventLog, getAddress, isAddress, zeroAddress } from 'viem';
import type { Address, Hex, Log } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Db } from '../../db/client.js';
import { certificates, ownership, partLinks, participants, parts } from '../../db/schema.js';
import type { PartLinkKind } from '../../db/schema.js';
import type { EventContent, EventRow, Tx } from './event-log.js';
import type { PartRegistry } from '../chain/part-registry.js';

type RegistryEvent = ReturnType<typeof decodeEventLog<typeof partRegistryAbi>> & {
  blockNumber: bigint;
  logIndex: number;
  transactionHash: Hex;
};

/** What one event means for the mirror: the parts it concerns, readable details, and its effect. */
interface Projection {
  partIds: string[];
  details: Record<string, unknown>;
  apply?: (tx: Tx) => Promise<unknown>;
}

interface Context {
  txHash: Hex;
  at: Date;
  part: (tokenId: bigint) => string;
  who: (address: Address) => string | null;
}

/** A log made ready to mirror: the row to append, and what to apply when it is new. */
export interface PreparedEvent {
  content: EventContent;
  apply?: (tx: Tx) => Promise<unknown>;
}

/** A mined log, as eth_getLogs returns it. */
export type MinedLog = Log<bigint, number, false>;

export class EventProjector {
  /** By block hash: after a reorganisation, the block at a height is another block with another time. */
  private readonly blockTimes = new Map<Hex, Date>();

  constructor(
    private readonly db: Db,
    private readonly registry: PartRegistry,
    private readonly chainId: number,
  ) {}

  /** Decodes and projects the contract's logs, in chain order. A log the ABI does not know is kept, as `Unknown`. */
  async prepare(logs: readonly MinedLog[]): Promise<PreparedEvent[]> {
    const sorted = [...logs].sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex);
    const decoded = sorted.map((log) => ({ log, event: decode(log) }));
    const events = decoded.flatMap(({ event }) => (event ? [event] : []));
    const [partIdOf, who, times] = await Promise.all([
      this.partIdResolver(events),
      this.participantResolver(events),
      Promise.all([...new Set(sorted.map((log) => log.blockHash))].map(async (block) => [block, await this.blockTime(block)] as const)),
    ]);
    const blockTimes = new Map(times);
    return decoded.map(({ log, event }) => {
      const at = blockTimes.get(log.blockHash)!;
      const projection: Projection = event
        ? project(event, { txHash: log.transactionHash, at, part: partIdOf, who })
        : { partIds: [], details: {} };
      const participantIds = event ? participantsOf(event, who) : [];
      return {
        content: {
          chainId: this.chainId,
          address: getAddress(log.address),
          blockNumber: Number(log.blockNumber),
          blockHash: log.blockHash,
          logIndex: log.logIndex,
          txHash: log.transactionHash,
          topics: [...log.topics],
          data: log.data,
          name: event?.eventName ?? 'Unknown',
          partIds: [...new Set(projection.partIds)],
          participantIds,
          args: projection.details,
          at,
        },
        apply: projection.apply,
      };
    });
  }

  /** Part ids of every token the events name: from SQL, from PartRegistered, else from the chain. */
  private async partIdResolver(events: RegistryEvent[]): Promise<(tokenId: bigint) => string> {
    const tokens = new Set<bigint>();
    const known = new Map<bigint, string>();
    for (const event of events) {
      for (const token of tokensOf(event)) tokens.add(token);
      if (event.eventName === 'PartRegistered') known.set(event.args.tokenId, event.args.partId);
    }
    const missing = [...tokens].filter((token) => !known.has(token));
    if (missing.length > 0) {
      const rows = await this.db
        .select({ id: parts.id, tokenId: parts.tokenId })
        .from(parts)
        .where(inArray(parts.tokenId, missing.map(String)));
      for (const row of rows) known.set(BigInt(row.tokenId), row.id);
    }
    for (const token of tokens) {
      if (!known.has(token)) known.set(token, withoutNul(await this.registry.partIdOf(token)));
    }
    return (tokenId) => known.get(tokenId)!;
  }

  /** The participants behind the addresses the events name (participants' addresses are stored checksummed). */
  private async participantResolver(events: RegistryEvent[]): Promise<(address: Address) => string | null> {
    const addresses = [
      ...new Set(
        events.flatMap((event) =>
          Object.values(event.args ?? {})
            .filter((v): v is Address => typeof v === 'string' && isAddress(v))
            .map((v) => getAddress(v)),
        ),
      ),
    ];
    const rows =
      addresses.length === 0
        ? []
        : await this.db
            .select({ id: participants.id, address: participants.address })
            .from(participants)
            .where(inArray(participants.address, addresses));
    const byAddress = new Map(rows.map((row) => [getAddress(row.address), row.id]));
    return (address) => byAddress.get(getAddress(address)) ?? null;
  }

  private async blockTime(blockHash: Hex): Promise<Date> {
    let at = this.blockTimes.get(blockHash);
    if (!at) {
      const block = await this.registry.client.getBlock({ blockHash });
      at = new Date(Number(block.timestamp) * 1000);
      if (this.blockTimes.size > 1000) this.blockTimes.clear();
      this.blockTimes.set(blockHash, at);
    }
    return at;
  }
}

/**
 * PostgreSQL text and jsonb refuse NUL characters, which a contract string (a part id, a kind) may
 * hold: they are stored as U+FFFD (in decoded arguments and in part ids read from the chain), so one
 * odd log never stops the listener. The raw log keeps them.
 */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

function scrubbed<T>(value: T): T {
  if (typeof value === 'string') return withoutNul(value) as T;
  if (Array.isArray(value)) return value.map(scrubbed) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), scrubbed(v)])) as T;
  return value;
}

/** The ABI's reading of a log, or null when the contract emitted something the ABI does not know. */
function decode(log: MinedLog): RegistryEvent | null {
  try {
    const decoded = decodeEventLog({ abi: partRegistryAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
    // Scrubbed here, so the event row and the tables projected from it hold the same text.
    return {
      ...decoded,
      args: scrubbed(decoded.args),
      blockNumber: log.blockNumber,
      logIndex: log.logIndex,
      transactionHash: log.transactionHash,
    } as RegistryEvent;
  } catch {
    return null;
  }
}

/** The known participants behind the addresses an event names. */
function participantsOf(event: RegistryEvent, who: (address: Address) => string | null): string[] {
  const ids = Object.values(event.args ?? {})
    .filter((value): value is Address => typeof value === 'string' && isAddress(value))
    .map((address) => who(address))
    .filter((id): id is string => id !== null);
  return [...new Set(ids)].sort();
}

function tokensOf(event: RegistryEvent): bigint[] {
  switch (event.eventName) {
    case 'Transfer':
    case 'PartRegistered':
    case 'CertificateAttached':
    case 'PartEventRecorded':
    case 'Decommissioned':
      return [event.args.tokenId];
    case 'PartDerived':
      return [event.args.tokenId, ...event.args.sources];
    case 'Assembled':
      return [event.args.productId, ...event.args.components];
    case 'Bundled':
    case 'Unbundled':
      return [event.args.bundleId, event.args.tokenId];
    default:
      return [];
  }
}

function links(kind: PartLinkKind, parentId: string, childIds: string[], context: Context) {
  return (tx: Tx) =>
    tx
      .insert(partLinks)
      .values(childIds.map((childId) => ({ parentId, childId, kind, linkedTx: context.txHash, linkedAt: context.at })))
      .onConflictDoNothing();
}

type EventName = RegistryEvent['eventName'];
type EventOf<N extends EventName> = Extract<RegistryEvent, { eventName: N }>;
type Projector<N extends EventName> = (event: EventOf<N>, context: Context) => Projection;

function project(event: RegistryEvent, context: Context): Projection {
  const projector = PROJECTORS[event.eventName] as Projector<EventName> | undefined;
  return projector ? projector(event, context) : { partIds: [], details: jsonSafe(event.args) };
}

function projectTransfer(event: EventOf<'Transfer'>, { part, who, txHash, at }: Context): Projection {
  const partId = part(event.args.tokenId);
  const fromAddress = event.args.from === zeroAddress ? null : getAddress(event.args.from);
  const toAddress = getAddress(event.args.to);
  const from = fromAddress && who(fromAddress);
  const to = who(toAddress);
  return {
    partIds: [partId],
    details: { part: partId, from, fromAddress, to, toAddress },
    apply: async (tx) => {
      await tx
        .insert(ownership)
        .values({ partId, fromId: from, toId: to, fromAddress, toAddress, txHash, blockNumber: event.blockNumber!.toString(), at })
        .onConflictDoNothing();
      await tx.update(parts).set({ ownerId: to, updatedAt: new Date() }).where(eq(parts.id, partId));
    },
  };
}

function projectUnbundled(event: EventOf<'Unbundled'>, { part, txHash, at }: Context): Projection {
  const bundle = part(event.args.bundleId);
  const child = part(event.args.tokenId);
  return {
    partIds: [bundle, child],
    details: { bundle, part: child },
    apply: (tx) =>
      tx
        .update(partLinks)
        .set({ unlinkedTx: txHash, unlinkedAt: at })
        .where(
          and(eq(partLinks.parentId, bundle), eq(partLinks.childId, child), eq(partLinks.kind, 'content'), isNull(partLinks.unlinkedTx)),
        ),
  };
}

function projectCertificateAttached(event: EventOf<'CertificateAttached'>, { part, who, txHash, at }: Context): Projection {
  const partId = part(event.args.tokenId);
  const { kind, documentHash, issuer, validUntil } = event.args;
  const issuerId = who(issuer);
  const until = validUntil === 0n ? null : new Date(Number(validUntil) * 1000);
  return {
    partIds: [partId],
    details: { part: partId, kind, documentHash, issuer: issuerId, issuerAddress: issuer, validUntil: until?.toISOString() ?? null },
    apply: (tx) =>
      tx
        .insert(certificates)
        .values({
          partId,
          documentHash: documentHash.toLowerCase(),
          kind,
          issuerAddress: getAddress(issuer),
          issuerId,
          validUntil: until,
          txHash,
          attachedAt: at,
        })
        .onConflictDoNothing(),
  };
}

function projectRole(event: EventOf<'RoleGranted' | 'RoleRevoked'>, { who }: Context): Projection {
  const { role, account, sender } = event.args;
  return { partIds: [], details: { role, account: who(account), accountAddress: account, by: who(sender) } };
}

/** One projector per event the mirror reads; any other event keeps its arguments as JSON and changes no table. */
const PROJECTORS: { [N in EventName]?: Projector<N> } = {
  PartRegistered: (event, { who }) => {
    const { partId, owner, metadataHash } = event.args;
    return { partIds: [partId], details: { part: partId, owner: who(owner), ownerAddress: owner, metadataHash } };
  },
  Transfer: projectTransfer,
  PartDerived: (event, context) => {
    const partId = context.part(event.args.tokenId);
    const sources = event.args.sources.map(context.part);
    return { partIds: [partId, ...sources], details: { part: partId, sources }, apply: links('source', partId, sources, context) };
  },
  Assembled: (event, context) => {
    const product = context.part(event.args.productId);
    const components = event.args.components.map(context.part);
    return { partIds: [product, ...components], details: { product, components }, apply: links('component', product, components, context) };
  },
  Bundled: (event, context) => {
    const bundle = context.part(event.args.bundleId);
    const child = context.part(event.args.tokenId);
    return { partIds: [bundle, child], details: { bundle, part: child }, apply: links('content', bundle, [child], context) };
  },
  Unbundled: projectUnbundled,
  CertificateAttached: projectCertificateAttached,
  PartEventRecorded: (event, { part }) => {
    const partId = part(event.args.tokenId);
    return { partIds: [partId], details: { part: partId, eventType: event.args.eventType, eventHash: event.args.eventHash } };
  },
  Decommissioned: (event, { part, who, at }) => {
    const partId = part(event.args.tokenId);
    return {
      partIds: [partId],
      details: { part: partId, by: who(event.args.holder), byAddress: event.args.holder },
      apply: (tx) => tx.update(parts).set({ decommissionedAt: at, updatedAt: new Date() }).where(eq(parts.id, partId)),
    };
  },
  RoleGranted: projectRole,
  RoleRevoked: projectRole,
};

/** Event arguments as JSON (bigints as decimal strings). */
function jsonSafe(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value ?? {}, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

/**
 * Undoes what `rows` (events a reorganisation removed from the chain) did to the mirror's tables:
 * their custody changes, links, unlinks, certificates and decommissions. Owners are recomputed
 * from the custody history that remains.
 */
export async function undoProjections(tx: Tx, rows: readonly EventRow[]): Promise<void> {
  const txHashes = [...new Set(rows.map((row) => row.txHash))];
  // Bounded statements, however deep the reorganisation (PostgreSQL takes at most 65535 parameters).
  for (let start = 0; start < txHashes.length; start += UNDO_CHUNK) await undoTransactions(tx, txHashes.slice(start, start + UNDO_CHUNK));
  const movedParts = [...new Set(rows.filter((row) => row.name === 'Transfer').flatMap((row) => row.partIds))];
  const decommissioned = [...new Set(rows.filter((row) => row.name === 'Decommissioned').flatMap((row) => row.partIds))];
  for (let start = 0; start < decommissioned.length; start += UNDO_CHUNK) {
    await tx
      .update(parts)
      .set({ decommissionedAt: null, updatedAt: new Date() })
      .where(inArray(parts.id, decommissioned.slice(start, start + UNDO_CHUNK)));
  }
  for (const partId of movedParts) {
    const [last] = await tx
      .select({ toId: ownership.toId })
      .from(ownership)
      .where(eq(ownership.partId, partId))
      .orderBy(desc(ownership.id))
      .limit(1);
    await tx
      .update(parts)
      .set({ ownerId: last?.toId ?? null, updatedAt: new Date() })
      .where(eq(parts.id, partId));
  }
}

const UNDO_CHUNK = 1000;

/** Undoes the custody rows, links, unlinks and certificates the transactions made. */
async function undoTransactions(tx: Tx, txHashes: string[]): Promise<void> {
  await tx.delete(ownership).where(inArray(ownership.txHash, txHashes));
  await tx.delete(partLinks).where(inArray(partLinks.linkedTx, txHashes));
  await tx.update(partLinks).set({ unlinkedTx: null, unlinkedAt: null }).where(inArray(partLinks.unlinkedTx, txHashes));
  await tx.delete(certificates).where(inArray(certificates.txHash, txHashes));
}
