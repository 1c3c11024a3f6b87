// Mirrors PartRegistry events into SQL: the event log itself (a part's history) and what the
// provenance queries read: custody, certificates, and the links between parts (assembled from,
// derived from, bundled in). Fed with the logs of mined transactions; each log is applied once (by
// chain, transaction and log index), so feeding the same receipt twice changes nothing.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { getAddress, isAddress, isAddressEqual, parseEventLogs, zeroAddress } from 'viem';
import type { Address, Hex, Log } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import type { Db } from '../db/client.js';
import { certificates, ledgerEvents, ownership, partLinks, participants, parts } from '../db/schema.js';
import type { PartLinkKind } from '../db/schema.js';
import type { PartRegistry } from './part-registry.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

type RegistryEvent = ReturnType<typeof parseEventLogs<typeof partRegistryAbi>>[number];

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

export class EventMirror {
  private readonly blockTimes = new Map<bigint, Date>();

  constructor(
    private readonly db: Db,
    private readonly registry: PartRegistry,
    private readonly chainId: number,
  ) {}

  /** Applies the PartRegistry events among `logs` (e.g. a receipt's), in chain order. */
  async apply(logs: readonly Log[]): Promise<void> {
    const ours = logs.filter((log) => isAddressEqual(log.address, this.registry.address));
    const events = parseEventLogs({ abi: partRegistryAbi, logs: ours as Log[] }).sort(
      (a, b) => Number(a.blockNumber! - b.blockNumber!) || a.logIndex! - b.logIndex!,
    );
    if (events.length === 0) return;
    // Everything the events need from the chain and SQL is read first: the transaction only writes.
    const [partIdOf, who, times] = await Promise.all([
      this.partIdResolver(events),
      this.participantResolver(events),
      Promise.all([...new Set(events.map((event) => event.blockNumber!))].map(async (block) => [block, await this.blockTime(block)] as const)),
    ]);
    const blockTimes = new Map(times);
    await this.db.transaction(async (tx) => {
      for (const event of events) {
        const context: Context = { txHash: event.transactionHash!, at: blockTimes.get(event.blockNumber!)!, part: partIdOf, who };
        const projection = project(event, context);
        const inserted = await tx
          .insert(ledgerEvents)
          .values({
            chainId: this.chainId,
            blockNumber: Number(event.blockNumber),
            logIndex: event.logIndex!,
            txHash: context.txHash,
            name: event.eventName,
            partIds: projection.partIds,
            args: projection.details,
            at: context.at,
          })
          .onConflictDoNothing()
          .returning({ id: ledgerEvents.id });
        if (inserted.length > 0) await projection.apply?.(tx);
      }
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
      const rows = await this.db.select({ id: parts.id, tokenId: parts.tokenId }).from(parts).where(inArray(parts.tokenId, missing.map(String)));
      for (const row of rows) known.set(BigInt(row.tokenId), row.id);
    }
    for (const token of tokens) {
      if (!known.has(token)) known.set(token, await this.registry.partIdOf(token));
    }
    return (tokenId) => known.get(tokenId)!;
  }

  /** The participants behind the addresses the events name (participants' addresses are stored checksummed). */
  private async participantResolver(events: RegistryEvent[]): Promise<(address: Address) => string | null> {
    const addresses = [...new Set(events.flatMap((event) => Object.values(event.args ?? {}).filter((v): v is Address => typeof v === 'string' && isAddress(v)).map((v) => getAddress(v))))];
    const rows = addresses.length === 0 ? [] : await this.db.select({ id: participants.id, address: participants.address }).from(participants).where(inArray(participants.address, addresses));
    const byAddress = new Map(rows.map((row) => [getAddress(row.address), row.id]));
    return (address) => byAddress.get(getAddress(address)) ?? null;
  }

  private async blockTime(blockNumber: bigint): Promise<Date> {
    let at = this.blockTimes.get(blockNumber);
    if (!at) {
      const block = await this.registry.client.getBlock({ blockNumber });
      at = new Date(Number(block.timestamp) * 1000);
      if (this.blockTimes.size > 1000) this.blockTimes.clear();
      this.blockTimes.set(blockNumber, at);
    }
    return at;
  }
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

function project(event: RegistryEvent, context: Context): Projection {
  const { part, who, txHash, at } = context;
  switch (event.eventName) {
    case 'PartRegistered': {
      const { partId, owner, metadataHash } = event.args;
      return { partIds: [partId], details: { part: partId, owner: who(owner), ownerAddress: owner, metadataHash } };
    }
    case 'Transfer': {
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
    case 'PartDerived': {
      const partId = part(event.args.tokenId);
      const sources = event.args.sources.map(part);
      return { partIds: [partId, ...sources], details: { part: partId, sources }, apply: links('source', partId, sources, context) };
    }
    case 'Assembled': {
      const product = part(event.args.productId);
      const components = event.args.components.map(part);
      return { partIds: [product, ...components], details: { product, components }, apply: links('component', product, components, context) };
    }
    case 'Bundled': {
      const bundle = part(event.args.bundleId);
      const child = part(event.args.tokenId);
      return { partIds: [bundle, child], details: { bundle, part: child }, apply: links('content', bundle, [child], context) };
    }
    case 'Unbundled': {
      const bundle = part(event.args.bundleId);
      const child = part(event.args.tokenId);
      return {
        partIds: [bundle, child],
        details: { bundle, part: child },
        apply: (tx) =>
          tx
            .update(partLinks)
            .set({ unlinkedTx: txHash, unlinkedAt: at })
            .where(and(eq(partLinks.parentId, bundle), eq(partLinks.childId, child), eq(partLinks.kind, 'content'), isNull(partLinks.unlinkedTx))),
      };
    }
    case 'CertificateAttached': {
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
            .values({ partId, documentHash: documentHash.toLowerCase(), kind, issuerAddress: getAddress(issuer), issuerId, validUntil: until, txHash, attachedAt: at })
            .onConflictDoNothing(),
      };
    }
    case 'PartEventRecorded': {
      const partId = part(event.args.tokenId);
      return { partIds: [partId], details: { part: partId, eventType: event.args.eventType, eventHash: event.args.eventHash } };
    }
    case 'Decommissioned': {
      const partId = part(event.args.tokenId);
      return {
        partIds: [partId],
        details: { part: partId, by: who(event.args.holder), byAddress: event.args.holder },
        apply: (tx) => tx.update(parts).set({ decommissionedAt: at, updatedAt: new Date() }).where(eq(parts.id, partId)),
      };
    }
    case 'RoleGranted':
    case 'RoleRevoked': {
      const { role, account, sender } = event.args;
      return { partIds: [], details: { role, account: who(account), accountAddress: account, by: who(sender) } };
    }
    default:
      return { partIds: [], details: jsonSafe(event.args) };
  }
}

/** Event arguments as JSON (bigints as decimal strings). */
function jsonSafe(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value ?? {}, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
