// What every chain-writing step shares: finding who holds a token (the holder signs), and sending a
// write whose events are in the SQL mirror by the time the activity completes.
import type { LocalAccount } from 'viem';
import type { Participant } from '../db/participants.js';
import { tokenIdOf } from '../domain/chain/part-registry.js';
import type { ChainWrite, ChainWriteResult } from '../domain/chain/tx-sender.js';
import type { ActivityDeps } from './context.js';
import { rejectingReverts, StepRejection, stepRejected } from './step-failures.js';
import { holderOf } from './participants.js';

export interface Holder {
  tokenId: bigint;
  participant: Participant;
  account: LocalAccount;
}

/** The participant holding `partId`'s token, and its signing account. */
export async function holderSigner(deps: ActivityDeps, partId: string): Promise<Holder> {
  const tokenId = tokenIdOf(partId);
  const address = await deps.registry.ownerOf(tokenId);
  if (!address) throw stepRejected(StepRejection.PartNotOnChain, `part ${partId} has no token on chain (was it minted?)`);
  const participant = await holderOf(deps.db, address);
  return { tokenId, participant, account: await signerOf(deps, participant) };
}

/** The signing account of a participant. */
export async function signerOf(deps: ActivityDeps, participant: Participant): Promise<LocalAccount> {
  return deps.keys.account(participant.keyRef);
}

/** Sends a write (a contract refusal rejects the step) and catches the mirror up to its block. */
export async function sendMirrored(deps: ActivityDeps, write: ChainWrite): Promise<ChainWriteResult> {
  const sent = await rejectingReverts(() => deps.txSender.send(write));
  // A write done by an earlier attempt (no block here) is at or below the head: catch up to that.
  await deps.mirror.catchUp(sent.blockNumber);
  return sent;
}
