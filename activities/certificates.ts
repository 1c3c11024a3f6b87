// `attach-certificate`: the issuer (an accepted certifier, checked on chain) anchors a certificate's
// document hash to the part, with its kind and validity; `certify` checks that certificates of the
// required kinds are attached, unexpired and issued by a certifier that is still accepted.
// Validity is judged by chain time, the clock every party shares.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { findParticipantByAddress } from '../db/participants.js';
import { nameHash, tokenIdOf } from '../ledger/part-registry.js';
import { HASH_PATTERN } from '../workflows/definition.js';
import type { ActivityDeps } from './context.js';
import { stepRejected } from './errors.js';
import { sendMirrored, signerOf } from './ledger-writes.js';
import { resolveRole } from './participants.js';
import type { StepCall } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface AttachCertificateParams {
  certificate: string;
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
  issuer: string;
  /** ISO time, or null for no expiry. */
  validUntil: string | null;
}

function isoOf(seconds: bigint): string | null {
  return seconds === 0n ? null : new Date(Number(seconds) * 1000).toISOString();
}

export function createCertificateActivities(deps: ActivityDeps) {
  const { db, registry } = deps;
  return {
    async attachCertificateStep(call: StepCall<AttachCertificateParams>) {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const { certificate, document, validForMs } = call.params;
        if (!HASH_PATTERN.test(document)) throw stepRejected('InvalidDocumentHash', `document: "${document}" is not a 32-byte hex hash`);
        // The issuer signs: the contract accepts only certifiers the admin accepted.
        const issuer = await resolveRole(db, call.params.participant === undefined ? call.params.issuer : undefined, call.params.participant);
        const tokenId = tokenIdOf(call.partId);
        const documentHash = document.toLowerCase() as Hex;
        const validUntil = validForMs === null ? 0n : (await registry.chainTime()) + BigInt(Math.ceil(validForMs / 1000));
        const sent = await sendMirrored(deps, {
          key: `certificate:${call.partId}:${documentHash}`,
          origin: { partId: call.partId, stepId: call.stepId },
          account: await signerOf(deps, issuer),
          to: registry.address,
          data: registry.attachCertificateCall(tokenId, certificate, documentHash, validUntil),
          abi: partRegistryAbi,
          isDone: () => registry.hasCertificate(tokenId, documentHash),
        });
        // Report what the chain holds (a retry after a lost reply must not invent a new expiry).
        const anchored = (await registry.certificatesOf(tokenId)).find((c) => c.documentHash.toLowerCase() === documentHash);
        return {
          certificate,
          documentHash,
          issuer: issuer.id,
          validUntil: anchored ? isoOf(anchored.validUntil) : isoOf(validUntil),
          txHash: sent.txHash,
        };
      });
    },

    async certifyStep(call: StepCall<CertifyParams>): Promise<{ certificates: CertificateView[] }> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const tokenId = tokenIdOf(call.partId);
        const [attached, now] = await Promise.all([registry.certificatesOf(tokenId), registry.chainTime()]);
        const found: CertificateView[] = [];
        const problems: string[] = [];
        for (const kind of call.params.requires) {
          const ofKind = attached.filter((c) => c.kind === nameHash(kind));
          let why = 'none attached';
          let valid: CertificateView | undefined;
          for (const certificate of ofKind) {
            const issuer = await findParticipantByAddress(db, certificate.issuer);
            // Accepted now, on chain: a certifier the admin has since revoked no longer counts.
            if (!(await registry.isAcceptedCertifier(certificate.issuer))) {
              why = `issued by ${issuer?.id ?? certificate.issuer}, which is not an accepted certifier`;
              continue;
            }
            if (certificate.validUntil !== 0n && certificate.validUntil <= now) {
              why = `expired ${isoOf(certificate.validUntil)}`;
              continue;
            }
            valid = { kind, documentHash: certificate.documentHash, issuer: issuer?.id ?? certificate.issuer, validUntil: isoOf(certificate.validUntil) };
            break;
          }
          if (valid) found.push(valid);
          else problems.push(`${kind}: ${why}`);
        }
        if (problems.length > 0) throw stepRejected('CertificationFailed', `part ${call.partId} lacks valid certificates: ${problems.join('; ')}`);
        return { certificates: found };
      });
    },
  };
}
