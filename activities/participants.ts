// Who a step acts for: a role resolved to one participant, and the participant behind an address.
import type { Address } from 'viem';
import { findParticipant, findParticipantByAddress, listParticipants } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import type { Db } from '../db/client.js';
import { PartConflictError, UnknownParticipantError, StepRejection, stepRejected } from './step-failures.js';

export async function requireParticipant(db: Db, id: string): Promise<Participant> {
  const found = await findParticipant(db, id);
  if (!found) throw new UnknownParticipantError(id);
  return found;
}

/**
 * The participant a step addresses by role: the one named (who must hold the role), or else the
 * only participant holding it.
 */
export async function resolveRole(db: Db, role: string | undefined, participantId?: string): Promise<Participant> {
  if (participantId !== undefined) {
    const named = await requireParticipant(db, participantId);
    if (role !== undefined && !named.roles.includes(role)) {
      throw stepRejected(
        StepRejection.RoleMismatch,
        `participant "${named.id}" does not hold the role "${role}" (it holds: ${named.roles.join(', ') || 'none'})`,
      );
    }
    return named;
  }
  if (role === undefined) throw stepRejected(StepRejection.NoRecipient, 'neither a role nor a participant was given');
  const holders = (await listParticipants(db)).filter((p) => p.roles.includes(role));
  if (holders.length === 0) throw stepRejected(StepRejection.NoParticipantForRole, `no participant holds the role "${role}"`);
  if (holders.length > 1) {
    throw stepRejected(
      StepRejection.AmbiguousRole,
      `several participants hold the role "${role}" (${holders.map((p) => p.id).join(', ')}); name one with participant:`,
    );
  }
  return holders[0]!;
}

export async function holderOf(db: Db, address: Address): Promise<Participant> {
  const found = await findParticipantByAddress(db, address);
  if (!found) throw new PartConflictError(`the token is held by ${address}, which is no known participant`);
  return found;
}
