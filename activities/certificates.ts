// Certificates are signed documents in the vault whose hash is anchored on chain.
// `attach-certificate`: the issuer (an accepted certifier, checked on chain) anchors the hash of a
// document it signed, of the certificate's kind, after the vault has verified it. `certify` checks
// that each required kind has a certificate that is attached, unexpired, issued by a certifier that
// is still accepted, and whose document in the vault still verifies. Validity is judged by chain
// time, the clock every party shares.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { documentsWithHash, getDocument } from '../db/documents.js';
import type { DocumentRow } from '../db/documents.js';
import { findParticipantByAddress } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { anchorsOf, isoOfChainTime } from '../domain/documents/anchors.js';
import { nameHash, tokenIdOf } from '../domain/chain/part-registry.js';
import { DOCUMENT_ID_PATTERN, isDocumentReference } from '../workflows/definition.js';
import type { AttachedCertificate } from '../workflows/activity-contract.js';
import type { ActivityDeps } from './context.js';
import { StepRejection, stepRejected } from './step-failures.js';
import { sendMirrored, signerOf } from './ledger-writes.js';
import { resolveRole } from './participants.js';
import type { StepCall } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface AttachCertificateParams {
  certificate: string;
  /** The document in the vault: its id or its hash. */
  document: string;
  issuer: string;
  participant?: string;
  validForMs: number | null;
}

export interface CertifyParams {
  requires: string[];
}

export interface CertificateView {
  kind: string;
  documentHash: Hex;
  /** The vault document the certificate's hash was verified against. */
  document: string;
  issuer: string;
  /** ISO time, or null for no expiry. */
  validUntil: string | null;
}

export type { AttachedCertificate };

/**
 * The issuer's document a certificate refers to, verified: found by id or hash, sent by the issuer,
 * of the certificate's kind, its signature and content intact. Every refusal is final (non-retryable).
 */
async function certificateDocument(deps: ActivityDeps, reference: string, issuer: Participant, kind: string): Promise<DocumentRow> {
  if (!isDocumentReference(reference))
    throw stepRejected(
      StepRejection.InvalidDocumentReference,
      `document: "${reference}" is neither a document id nor a 0x-prefixed SHA-256 hash`,
    );
  let row: DocumentRow | undefined;
  if (DOCUMENT_ID_PATTERN.test(reference)) {
    row = await getDocument(deps.db, reference.toLowerCase());
    if (!row) throw stepRejected(StepRejection.DocumentNotFound, `no document "${reference}" in the vault`);
    if (row.deletedAt)
      throw stepRejected(StepRejection.DocumentDeleted, `document ${row.id} was deleted by ${row.deletedBy ?? 'its owner'}`);
  } else {
    const candidates = await documentsWithHash(deps.db, reference);
    row =
      candidates.find((d) => d.owner === issuer.id && d.kind === kind) ?? candidates.find((d) => d.owner === issuer.id) ?? candidates[0];
    if (!row)
      throw stepRejected(
        StepRejection.DocumentNotFound,
        `no document with hash ${reference.toLowerCase()} in the vault; the issuer uploads it first (POST /documents)`,
      );
  }
  if (row.owner !== issuer.id)
    throw stepRejected(StepRejection.DocumentNotFromIssuer, `document ${row.id} was sent by ${row.owner}, not by the issuer ${issuer.id}`);
  if (row.kind !== kind)
    throw stepRejected(StepRejection.DocumentKindMismatch, `document ${row.id} is a "${row.kind}" document, not "${kind}"`);
  const check = await deps.documents.check(row);
  if (!check.ok) {
    const failures = (['metadata', 'signature', 'content'] as const)
      .filter((layer) => !check[layer].ok)
      .map((layer) => `${layer}: ${check[layer].code ?? 'failed'} (${check[layer].message})`);
    throw stepRejected(StepRejection.DocumentVerificationFailed, `document ${row.id} does not verify: ${failures.join('; ')}`);
  }
  return row;
}

/** Anchors a verified certificate document on the part, signed by its issuer. */
export async function attachCertificate(
  deps: ActivityDeps,
  request: {
    partId: string;
    kind: string;
    document: string;
    issuer: Participant;
    validForMs: number | null;
    origin?: { partId: string; stepId: string };
  },
): Promise<AttachedCertificate> {
  const { registry } = deps;
  const { partId, kind, issuer, validForMs } = request;
  const row = await certificateDocument(deps, request.document, issuer, kind);
  // A certificate document speaks for one part: its hash is public once anchored, and must not be
  // reusable to certify another part (its statement does not name the part).
  const elsewhere = (await anchorsOf(deps.db, registry, row.hash as Hex)).filter((a) => a.partId !== partId);
  if (elsewhere.length > 0) {
    throw stepRejected(
      StepRejection.DocumentAnchoredElsewhere,
      `document ${row.id} already certifies ${elsewhere.map((a) => a.partId).join(', ')}; each part needs a certificate document of its own`,
    );
  }
  const tokenId = tokenIdOf(partId);
  const documentHash = row.hash as Hex;
  const validUntil = validForMs === null ? 0n : (await registry.chainTime()) + BigInt(Math.ceil(validForMs / 1000));
  const sent = await sendMirrored(deps, {
    key: `certificate:${partId}:${documentHash}`,
    ...(request.origin ? { origin: request.origin } : {}),
    account: await signerOf(deps, issuer),
    to: registry.address,
    data: registry.attachCertificateCall(tokenId, kind, documentHash, validUntil),
    abi: partRegistryAbi,
    isDone: () => registry.hasCertificate(tokenId, documentHash),
  });
  // Report what the chain holds (a retry after a lost reply must not invent a new expiry).
  const anchored = (await registry.certificatesOf(tokenId)).find((c) => c.documentHash.toLowerCase() === documentHash);
  return {
    certificate: kind,
    document: row.id,
    documentHash,
    issuer: issuer.id,
    validUntil: anchored ? isoOfChainTime(anchored.validUntil) : isoOfChainTime(validUntil),
    txHash: sent.txHash,
  };
}

type ChainCertificate = { documentHash: Hex; issuer: `0x${string}`; validUntil: bigint };

/** Why a certificate does not count, or the vault document it is valid with. */
async function judgeCertificate(
  deps: ActivityDeps,
  certificate: ChainCertificate,
  kind: string,
  now: bigint,
): Promise<{ valid?: CertificateView; why?: string }> {
  const { db, registry, documents } = deps;
  const issuer = await findParticipantByAddress(db, certificate.issuer);
  const issuerName = issuer?.id ?? certificate.issuer;
  // Accepted now, on chain: a certifier the admin has since revoked no longer counts.
  if (!(await registry.isAcceptedCertifier(certificate.issuer)))
    return { why: `issued by ${issuerName}, which is not an accepted certifier` };
  if (certificate.validUntil !== 0n && certificate.validUntil <= now) return { why: `expired ${isoOfChainTime(certificate.validUntil)}` };
  const hash = certificate.documentHash.toLowerCase();
  const candidates = (await documentsWithHash(db, hash)).filter((d) => d.owner === issuer?.id && d.kind === kind);
  if (candidates.length === 0) return { why: `document ${hash} signed by ${issuerName} is not in the vault` };
  let why = '';
  for (const row of candidates) {
    const check = await documents.check(row);
    if (check.ok)
      return {
        valid: {
          kind,
          documentHash: hash as Hex,
          document: row.id,
          issuer: issuerName,
          validUntil: isoOfChainTime(certificate.validUntil),
        },
      };
    const layer = (['metadata', 'signature', 'content'] as const).find((l) => !check[l].ok)!;
    why = `document ${row.id} fails verification (${check[layer].code ?? layer})`;
  }
  return { why };
}

/** For each required kind, the first attached certificate that is valid; refuses (final) when any kind has none. */
async function requireCertificates(deps: ActivityDeps, partId: string, requires: string[]): Promise<CertificateView[]> {
  const { registry } = deps;
  const tokenId = tokenIdOf(partId);
  const [attached, now] = await Promise.all([registry.certificatesOf(tokenId), registry.chainTime()]);
  const found: CertificateView[] = [];
  const problems: string[] = [];
  for (const kind of requires) {
    let why = 'none attached';
    let valid: CertificateView | undefined;
    for (const certificate of attached.filter((c) => c.kind === nameHash(kind))) {
      const verdict = await judgeCertificate(deps, certificate, kind, now);
      if (verdict.valid) {
        valid = verdict.valid;
        break;
      }
      why = verdict.why!;
    }
    if (valid) found.push(valid);
    else problems.push(`${kind}: ${why}`);
  }
  if (problems.length > 0)
    throw stepRejected(StepRejection.CertificationFailed, `part ${partId} lacks valid certificates: ${problems.join('; ')}`);
  return found;
}

export function createCertificateActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async attachCertificateStep(call: StepCall<AttachCertificateParams>): Promise<AttachedCertificate> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const { certificate, document, validForMs } = call.params;
        // The issuer signs: the contract accepts only certifiers the admin accepted.
        const issuer = await resolveRole(
          db,
          call.params.participant === undefined ? call.params.issuer : undefined,
          call.params.participant,
        );
        return attachCertificate(deps, {
          partId: call.partId,
          kind: certificate,
          document,
          issuer,
          validForMs,
          origin: { partId: call.partId, stepId: call.stepId },
        });
      });
    },

    async certifyStep(call: StepCall<CertifyParams>): Promise<{ certificates: CertificateView[] }> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => ({
        certificates: await requireCertificates(deps, call.partId, call.params.requires),
      }));
    },
  };
}
