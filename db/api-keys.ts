// API keys: a key acts as exactly one participant. Keys are shown once, at creation; SQL keeps only
// their SHA-256, so a leaked database does not leak working keys.
import { createHash, randomBytes } from 'node:crypto';
import { and, arrayContains, eq, isNull } from 'drizzle-orm';
import type { Db } from './client.js';
import { apiKeys, participants } from './schema.js';
import type { Participant } from './participants.js';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** `tw_` and 256 random bits, base64url: recognisable in logs and secret scanners. */
const KEY_PREFIX = 'tw_';
/** How much of a key is kept in clear, to tell keys apart. */
const SHOWN_CHARS = 10;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export interface IssuedApiKey {
  id: number;
  /** The key itself; never stored, so this is the only time anyone sees it. */
  key: string;
  prefix: string;
  label: string | null;
  createdAt: Date;
}

/** Stores a new random key for `participantId`. */
export async function issueApiKey(db: Db, participantId: string, options: { label?: string } = {}): Promise<IssuedApiKey> {
  const key = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({ participantId, keyHash: hashApiKey(key), prefix: key.slice(0, SHOWN_CHARS), label: options.label ?? null })
    .returning();
  return { id: row!.id, key, prefix: row!.prefix, label: row!.label, createdAt: row!.createdAt };
}

/**
 * Stores a key chosen outside (the bootstrap admin key). A key already known, revoked or not, is
 * left as it is: a revoked key is never brought back. False when it was known.
 */
export async function insertChosenApiKey(db: Db, participantId: string, key: string, label: string): Promise<boolean> {
  const rows = await db
    .insert(apiKeys)
    .values({ participantId, keyHash: hashApiKey(key), prefix: key.slice(0, SHOWN_CHARS), label })
    .onConflictDoNothing({ target: apiKeys.keyHash })
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** What SQL knows of a presented key: nothing, or whose it is and whether it was revoked. */
export async function apiKeyRecord(db: Db, key: string): Promise<{ id: number; participantId: string; revoked: boolean } | undefined> {
  const [row] = await db
    .select({ id: apiKeys.id, participantId: apiKeys.participantId, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, hashApiKey(key)));
  return row && { id: row.id, participantId: row.participantId, revoked: row.revokedAt !== null };
}

/** Whether any participant with the `admin` role holds a key that works. */
export async function activeAdminKeyExists(db: Db): Promise<boolean> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .innerJoin(participants, eq(apiKeys.participantId, participants.id))
    .where(and(isNull(apiKeys.revokedAt), arrayContains(participants.roles, ['admin'])))
    .limit(1);
  return rows.length > 0;
}

/** The participant a presented key acts as, and the key's id, or undefined when the key is unknown or revoked. */
export async function authenticateApiKey(db: Db, key: string): Promise<{ participant: Participant; keyId: number } | undefined> {
  const [row] = await db
    .select({ participant: participants, keyId: apiKeys.id })
    .from(apiKeys)
    .innerJoin(participants, eq(apiKeys.participantId, participants.id))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  return row;
}

/** The participant a presented key acts as, or undefined when the key is unknown or revoked. */
export async function participantForApiKey(db: Db, key: string): Promise<Participant | undefined> {
  return (await authenticateApiKey(db, key))?.participant;
}

/** Whether the key with this id still works (streams ask again while they stay open). */
export async function isApiKeyActive(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return rows.length > 0;
}

export async function listApiKeys(db: Db, participantId: string): Promise<Omit<ApiKeyRow, 'keyHash'>[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.participantId, participantId)).orderBy(apiKeys.id);
  return rows.map(({ keyHash: _hash, ...rest }) => rest);
}

/** Revokes one of a participant's keys; false when it has no such key. */
export async function revokeApiKey(db: Db, participantId: string, id: number): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.participantId, participantId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
