// Who may deliver the event an `await` step waits for. A step with `by: <role>` takes it only from
// the company bound to that role for the part; a step without `by:` only from the part's current
// holder (before its token exists: the participant that started it). Admins and operators may send
// any event. The API and the Service Bus intake both check here, before the event reaches Temporal.
import type { Participant } from '../../db/participants.js';
import type { CompiledStep } from '../../workflows/definition.js';
import type { RoleBindings } from '../../workflows/role-bindings.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

/** What a part knows about the companies around it. */
export interface PartParties {
  /** Role name to participant id, bound at start. */
  roles: RoleBindings;
  /** The current holder of the part's token, once there is one. */
  holder?: string | null;
  /** The participant whose key started the part. */
  createdBy?: string | null;
}

/** The API roles (api/auth.ts API_ROLES) that may send any event to any part. */
const SEND_ANY = ['admin', 'operator'];

/** The one participant a step takes its event from (undefined: nobody but an admin or operator), and why. */
export function senderOf(step: Pick<CompiledStep, 'params'>, parties: PartParties): { participant?: string; as: string } {
  const role = step.params.by;
  if (typeof role === 'string') return { participant: parties.roles[role], as: `the part's ${role}` };
  if (parties.holder) return { participant: parties.holder, as: "the part's holder" };
  return { participant: parties.createdBy ?? undefined, as: 'the participant that started the part' };
}

/** 403 `event_not_allowed` unless `sender` may deliver `event` to one of the steps awaiting it. */
export function checkSender(
  sender: Pick<Participant, 'id' | 'roles'>,
  id: string,
  event: string,
  awaiting: CompiledStep[],
  parties: PartParties,
): void {
  if (SEND_ANY.some((role) => sender.roles.includes(role))) return;
  const senders = awaiting.map((step) => senderOf(step, parties));
  if (senders.some((s) => s.participant === sender.id)) return;
  const named = [...new Set(senders.map((s) => (s.participant ? `"${s.participant}" (${s.as})` : `${s.as} (not known yet)`)))];
  throw new CodedError(Errors.event_not_allowed, {
    participant: sender.id,
    event,
    id,
    allowed: `only ${named.join(' or ')} or an admin or operator may send it`,
  });
}
