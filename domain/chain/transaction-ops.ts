// The ops view of chain transactions: every pending (signed or sent, re-sent ones included),
// stuck (pending past the threshold) and lost one, with its age, signer, nonce, the parts and
// steps it carries, and its attempts; and the operator's resend, recorded in operator_actions
// before it happens.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { getAddress, isAddress } from 'viem';
import type { Db } from '../../db/client.js';
import { completeOperatorAction, insertOperatorAction } from '../../db/operator-actions.js';
import { chainIntents, chainTxs, participants } from '../../db/schema.js';
import type { ChainTxStatus } from '../../db/schema.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import type { KeyStore } from '../participants/keystore.js';
import type { ChainConnection } from './connection.js';
import { baseKey, healSigner } from './stuck-transactions.js';

export type TransactionFilterStatus = 'pending' | 'stuck' | 'lost' | 'all';

export interface TransactionFilter {
  status: TransactionFilterStatus;
  /** A participant id or a signing address. */
  signer?: string;
  /** Pending longer than this (since it was last sent) is stuck. */
  stuckAfterMs: number;
  limit: number;
}

export interface TransactionView {
  key: string;
  status: ChainTxStatus;
  /** Pending past the threshold. */
  stuck: boolean;
  ageSeconds: number;
  signer: { participantId: string | null; address: string };
  nonce: number;
  attempts: number;
  txHash: string;
  replacedBy: string | null;
  blockNumber: string | null;
  sentAt: string | null;
  items: { count: number; parts: { partId: string; stepId: string | null; intent: string | null }[] };
}

const PENDING: ChainTxStatus[] = ['signed', 'sent'];
const LISTED: ChainTxStatus[] = ['signed', 'sent', 'lost', 'replaced'];

type TxRow = typeof chainTxs.$inferSelect;

export async function listTransactions(db: Db, chainId: number, filter: TransactionFilter, now = new Date()): Promise<TransactionView[]> {
  const conditions: (SQL | undefined)[] = [eq(chainTxs.chainId, chainId)];
  const stuckBefore = new Date(now.getTime() - filter.stuckAfterMs);
  if (filter.status === 'pending') conditions.push(inArray(chainTxs.status, PENDING));
  if (filter.status === 'lost') conditions.push(eq(chainTxs.status, 'lost'));
  if (filter.status === 'all') conditions.push(inArray(chainTxs.status, LISTED));
  if (filter.status === 'stuck')
    conditions.push(
      inArray(chainTxs.status, PENDING),
      or(lt(chainTxs.sentAt, stuckBefore), and(eq(chainTxs.status, 'signed'), lt(chainTxs.updatedAt, stuckBefore))),
    );
  if (filter.signer) conditions.push(eq(chainTxs.fromAddress, await signerAddress(db, filter.signer)));
  const rows = await db
    .select()
    .from(chainTxs)
    .where(and(...conditions))
    .orderBy(desc(chainTxs.createdAt))
    .limit(filter.limit);
  return views(db, rows, filter.stuckAfterMs, now);
}

/** A participant id or an address, as the address its transactions are signed with. */
async function signerAddress(db: Db, signer: string): Promise<string> {
  if (isAddress(signer)) return getAddress(signer);
  const [participant] = await db.select({ address: participants.address }).from(participants).where(eq(participants.id, signer));
  if (!participant) throw new CodedError(Errors.participant_not_found, { id: signer });
  return participant.address;
}

async function views(db: Db, rows: TxRow[], stuckAfterMs: number, now: Date): Promise<TransactionView[]> {
  if (rows.length === 0) return [];
  const keys = rows.map((row) => row.key);
  const intents = await db
    .select({ key: chainIntents.key, txKey: chainIntents.txKey, partId: chainIntents.partId, stepId: chainIntents.stepId })
    .from(chainIntents)
    .where(inArray(chainIntents.txKey, keys));
  const addresses = [...new Set(rows.map((row) => row.fromAddress))];
  const owners = await db
    .select({ id: participants.id, address: participants.address })
    .from(participants)
    .where(inArray(participants.address, addresses));
  return rows.map((row) => {
    const carried = intents.filter((intent) => intent.txKey === row.key && intent.partId);
    const parts: TransactionView['items']['parts'] = carried.map((intent) => ({
      partId: intent.partId!,
      stepId: intent.stepId,
      intent: intent.key,
    }));
    if (parts.length === 0 && row.partId) parts.push({ partId: row.partId, stepId: row.stepId, intent: null });
    const since = row.sentAt ?? row.updatedAt;
    const ageMs = now.getTime() - (row.sentAt ?? row.createdAt).getTime();
    return {
      key: row.key,
      status: row.status,
      stuck: PENDING.includes(row.status) && now.getTime() - since.getTime() > stuckAfterMs,
      ageSeconds: Math.max(0, Math.round(ageMs / 1000)),
      signer: { participantId: owners.find((owner) => owner.address === row.fromAddress)?.id ?? null, address: row.fromAddress },
      nonce: row.nonce,
      attempts: row.attempts,
      txHash: row.txHash,
      replacedBy: row.replacedBy,
      blockNumber: row.blockNumber,
      sentAt: row.sentAt?.toISOString() ?? null,
      items: { count: Math.max(row.items, carried.length), parts },
    };
  });
}

export interface ResendDeps {
  db: Db;
  chain: ChainConnection;
  keys: KeyStore;
}

export interface ResendResult {
  requestId: string;
  /** True when this process re-sent it at once (it holds the signer's key); else the next heal pass does. */
  resent: boolean;
  /** The newest attempt at its nonce after the action. */
  transaction: TransactionView;
}

/**
 * Marks a pending transaction for an immediate re-send (its sent time set far back, so the next heal
 * pass bumps it) and, when this process holds the signer's key, heals the signer now. Recorded in
 * operator_actions first; completed with the attempt it led to.
 */
export async function resendTransaction(deps: ResendDeps, key: string, actor: string, reason: string): Promise<ResendResult> {
  const { db, chain } = deps;
  const [row] = await db
    .select()
    .from(chainTxs)
    .where(and(eq(chainTxs.key, key), eq(chainTxs.chainId, chain.chainId)));
  if (!row) throw new CodedError(Errors.transaction_not_found, { key });
  if (!PENDING.includes(row.status)) throw new CodedError(Errors.transaction_not_pending, { key, status: row.status });
  const [view] = await views(db, [row], 0, new Date());
  const part = view!.items.parts[0];
  const requestId = randomUUID();
  const before = { txKey: row.key, txHash: row.txHash, nonce: row.nonce, attempts: row.attempts, status: row.status };
  await insertOperatorAction(db, {
    requestId,
    partId: part?.partId ?? null,
    stepId: part?.stepId ?? null,
    action: 'resend_tx',
    actor,
    reason,
    before,
    after: {},
  });
  await db
    .update(chainTxs)
    .set({ sentAt: new Date(0), updatedAt: new Date() })
    .where(eq(chainTxs.key, row.key));
  const account = await signerAccount(deps, row.fromAddress);
  if (account) await healSigner({ db, chain, account, stuckAfterMs: 24 * 3_600_000 });
  const current = await newestAttempt(db, row);
  const [after] = await views(db, [current], 0, new Date());
  await completeOperatorAction(db, requestId, {
    txKey: current.key,
    txHash: current.txHash,
    attempts: current.attempts,
    status: current.status,
  });
  return { requestId, resent: account !== undefined && current.key !== row.key, transaction: after! };
}

async function signerAccount({ db, keys }: ResendDeps, address: string) {
  const [participant] = await db.select({ keyRef: participants.keyRef }).from(participants).where(eq(participants.address, address));
  if (!participant) return undefined;
  return keys.account(participant.keyRef).catch(() => undefined);
}

/** The newest attempt of the same write at the same nonce. */
async function newestAttempt(db: Db, row: TxRow): Promise<TxRow> {
  const attempts = await db
    .select()
    .from(chainTxs)
    .where(and(eq(chainTxs.chainId, row.chainId), eq(chainTxs.fromAddress, row.fromAddress), eq(chainTxs.nonce, row.nonce)));
  const same = attempts.filter((attempt) => baseKey(attempt.key) === baseKey(row.key));
  return same.reduce((best, attempt) => (attempt.attempts > best.attempts ? attempt : best), row);
}
