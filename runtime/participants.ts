// Seeds participants from a YAML file into SQL, with addresses from the key store.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatEther, parseEther } from 'viem';
import type { Address } from 'viem';
import { ConfigError } from '../config/errors.js';
import type { Db } from '../db/client.js';
import { upsertParticipant } from '../db/participants.js';
import type { KeyStore } from '../ledger/keystore.js';
import type { TxSender } from '../ledger/tx-sender.js';
import type { ChainConnection } from '../ledger/chain.js';
import { PARTICIPANT_ID_PATTERN } from '../workflows/definition.js';

const participantsFileSchema = z
  .object({
    participants: z.array(
      z
        .object({
          id: z.string().regex(PARTICIPANT_ID_PATTERN, 'lowercase letters, digits and dashes'),
          name: z.string().min(1),
          roles: z.array(z.string().min(1)).default([]),
          key: z.string().regex(/^hd:\d+$/, 'expected hd:<index>'),
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

export async function seedParticipants(db: Db, keys: KeyStore, seeds: ParticipantSeed[]): Promise<void> {
  for (const seed of seeds) {
    const account = keys.account(seed.key);
    await upsertParticipant(db, { id: seed.id, name: seed.name, roles: seed.roles, address: account.address, keyRef: seed.key });
  }
}

/**
 * On a dev chain, gives each participant gas money from the registrar when it has too little
 * (keys beyond the node's pre-funded accounts start empty). Never used against a real network.
 */
export async function fundParticipantsForDev(
  chain: ChainConnection,
  txSender: TxSender,
  keys: KeyStore,
  registrarKeyRef: string,
  seeds: ParticipantSeed[],
): Promise<void> {
  const minimum = parseEther('1');
  for (const seed of seeds) {
    const address: Address = keys.account(seed.key).address;
    const balance = await chain.client.getBalance({ address });
    if (balance >= minimum) continue;
    await txSender.send({
      // The balance is part of the key: a participant that spent its gas money is funded again.
      key: `dev-fund:${address}:${formatEther(balance)}`,
      account: keys.account(registrarKeyRef),
      to: address,
      data: '0x',
      value: parseEther('10'),
      isDone: async () => (await chain.client.getBalance({ address })) >= minimum,
    });
  }
}
