// Where a document hash is anchored: the SQL mirror says which parts carry a certificate with the
// hash, and the chain, the shared truth, confirms each one with its issuer and validity.
import { eq } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Db } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { tokenIdOf } from '../chain/part-registry.js';
import type { PartRegistry } from '../chain/part-registry.js';

export interface Anchor {
  partId: string;
  kind: string;
  issuer: string;
  issuerAddress: Address;
  /** ISO time, or null for no expiry. */
  validUntil: string | null;
  expired: boolean;
  txHash: string;
}

export function isoOfChainTime(seconds: bigint): string | null {
  return seconds === 0n ? null : new Date(Number(seconds) * 1000).toISOString();
}

/** The certificates on chain that anchor `hash`, each confirmed by reading the contract. */
export async function anchorsOf(db: Db, registry: PartRegistry, hash: Hex): Promise<Anchor[]> {
  const mirrored = await db.select().from(certificates).where(eq(certificates.documentHash, hash.toLowerCase()));
  if (mirrored.length === 0) return [];
  const now = await registry.chainTime();
  const anchors: Anchor[] = [];
  for (const row of mirrored) {
    const onChain = (await registry.certificatesOf(tokenIdOf(row.partId))).find((c) => c.documentHash.toLowerCase() === hash.toLowerCase());
    if (!onChain) continue;
    anchors.push({
      partId: row.partId,
      kind: row.kind,
      issuer: row.issuerId ?? onChain.issuer,
      issuerAddress: onChain.issuer,
      validUntil: isoOfChainTime(onChain.validUntil),
      expired: onChain.validUntil !== 0n && onChain.validUntil <= now,
      txHash: row.txHash,
    });
  }
  return anchors;
}
