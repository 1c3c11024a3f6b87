// API keys: a key acts as exactly one participant. Keys are shown once, at creation; SQL keeps only
// their SHA-256, so a leaked database does not leak working keys.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
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

/** Stores a key for `participantId`: a new random one, or `key` when given (the bootstrap admin key). */
export async function issueApiKey(db: Db, participantId: string, options: { label?: string; key?: string } = {}): Promise<IssuedApiKey> {
  const key = options.key ?? generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({ participantId, keyHash: hashApiKey(key), prefix: key.slice(0, SHOWN_CHARS), label: options.label ?? null })
    .onConflictDoUpdate({ target: apiKeys.keyHash, set: { revokedAt: null, label: options.label ?? null } })
    .returning();
  return { id: row!.id, key, prefix: row!.prefix, label: row!.label, createdAt: row!.createdAt };
}

/** The participant a presented key acts as, or undefined when the key is unknown or revoked. */
export async function participantForApiKey(db: Db, key: string): Promise<Participant | undefined> {
  const [row] = await db
    .select({ participant: participants })
    .from(apiKeys)
    .innerJoin(participants, eq(apiKeys.participantId, participants.id))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  return row?.participant;
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
