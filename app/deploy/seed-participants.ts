// Seeds participants from a YAML file into SQL (part of `tracewell deploy`) (new ones get fresh keys in the key store), and
// creates the `admin` participant that the bootstrap API key acts as.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { activeAdminKeyExists, apiKeyRecord, generateApiKey, insertChosenApiKey } from '../../db/api-keys.js';
import type { Db } from '../../db/client.js';
import { findParticipant, insertParticipant, updateParticipant } from '../../db/participants.js';
import type { Participant } from '../../db/participants.js';
import type { KeyStore } from '../../domain/participants/keystore.js';
import { createParticipantKeys } from '../../domain/participants/participant-keys.js';
import { PARTICIPANT_ID_PATTERN, PARTICIPANT_ID_RULE } from '../../workflows/definition.js';

const participantsFileSchema = z
  .object({
    participants: z.array(
      z
        .object({
          id: z.string().regex(PARTICIPANT_ID_PATTERN, `expected ${PARTICIPANT_ID_RULE}`),
          name: z.string().min(1),
          roles: z.array(z.string().min(1)).default([]),
          /** An existing ledger key (e.g. hd:<index> from CHAIN_MNEMONIC); default: a new key. */
          key: z
            .string()
            .regex(/^hd:\d+$/, 'expected hd:<index>')
            .optional(),
        })
        .strict(),
    ),
  })
  .strict();

export type ParticipantSeed = z.infer<typeof participantsFileSchema>['participants'][number];

export function loadParticipantsFile(path: string): ParticipantSeed[] {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message} (set TRACEWELL_PARTICIPANTS to the participants file)`);
  }
  const result = participantsFileSchema.safeParse(document);
  if (!result.success) throw ConfigError.fromZod(path, result.error);
  return result.data.participants;
}

export interface SeededParticipant {
  participant: Participant;
  outcome: 'created' | 'updated' | 'unchanged';
}

const sameRoles = (a: string[], b: string[]) => a.length === b.length && a.every((role, i) => role === b[i]);

/** Creates the participants that are new (with new keys) and applies name and role edits to the rest. */
export async function seedParticipants(db: Db, keys: KeyStore, seeds: ParticipantSeed[]): Promise<SeededParticipant[]> {
  const seeded: SeededParticipant[] = [];
  for (const seed of seeds) {
    const existing = await findParticipant(db, seed.id);
    if (existing && existing.name === seed.name && sameRoles(existing.roles, seed.roles)) {
      seeded.push({ participant: existing, outcome: 'unchanged' });
    } else if (existing) {
      seeded.push({ participant: (await updateParticipant(db, seed.id, { name: seed.name, roles: seed.roles }))!, outcome: 'updated' });
    } else {
      const participantKeys = await createParticipantKeys(keys, seed.id, seed.key);
      await insertParticipant(db, { id: seed.id, name: seed.name, roles: seed.roles, ...participantKeys });
      seeded.push({ participant: (await findParticipant(db, seed.id))!, outcome: 'created' });
    }
  }
  return seeded;
}

export const ADMIN_PARTICIPANT_ID = 'admin';

/**
 * The `admin` participant (its ledger key is the contract admin's) and `apiKey` as one of its API
 * keys, so a fresh installation has someone who can create the other participants. Says what it
 * had to do.
 */
/** What became of the bootstrap key (TRACEWELL_ADMIN_API_KEY) in a deploy. */
export type BootstrapKeyOutcome =
  /** Stored now: no admin held a working key (the first deploy). */
  | 'issued'
  /** Already stored and working. */
  | 'current'
  /** Stored and revoked: it stays revoked (a deploy never brings a key back). */
  | 'revoked'
  /** Already stored for another participant: it is not the admin's. */
  | 'foreign'
  /** Unknown, and an admin already holds a working key: keys are issued through the API from now on. */
  | 'not-issued';

export async function ensureAdmin(
  db: Db,
  keys: KeyStore,
  adminKeyRef: string,
  apiKey: string,
  options: { fresh?: boolean } = {},
): Promise<{ created: boolean; key: BootstrapKeyOutcome }> {
  const created = !(await findParticipant(db, ADMIN_PARTICIPANT_ID));
  if (created) {
    const participantKeys = await createParticipantKeys(keys, ADMIN_PARTICIPANT_ID, adminKeyRef);
    await insertParticipant(db, { id: ADMIN_PARTICIPANT_ID, name: 'Tracewell administrator', roles: ['admin'], ...participantKeys });
  }
  return { created, key: await ensureBootstrapKey(db, apiKey, options.fresh ?? false) };
}

/**
 * The bootstrap key opens a new installation, nothing more: it is stored only while no admin holds
 * a working key, and a key SQL knows already is left as it is, so a revoked one stays revoked
 * across restarts and redeploys.
 */
async function ensureBootstrapKey(db: Db, apiKey: string, fresh: boolean): Promise<BootstrapKeyOutcome> {
  const known = await apiKeyRecord(db, apiKey);
  if (known) {
    if (known.participantId !== ADMIN_PARTICIPANT_ID) return 'foreign';
    return known.revoked ? 'revoked' : 'current';
  }
  // Dev's throwaway key (no data directory to keep it) is new by construction: nothing comes back.
  if (!fresh && (await activeAdminKeyExists(db))) return 'not-issued';
  // Concurrent deploys insert the same key: one stores it, the others find it stored.
  await insertChosenApiKey(db, ADMIN_PARTICIPANT_ID, apiKey, 'bootstrap (TRACEWELL_ADMIN_API_KEY)');
  return 'issued';
}

/** The dev admin key: kept in the data directory so it survives restarts, else new each start (`fresh`). */
export function devAdminApiKey(file: string | undefined): { key: string; fresh: boolean } {
  if (file && existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), fresh: false };
  const key = generateApiKey();
  if (file) writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, fresh: !file };
}
