// `bundle` puts the part into a bundle (a pallet) held by the same participant; `unbundle` takes it
// out again. The holder signs both. While bundled, the part moves only with its bundle (the contract
// enforces it).
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { tokenIdOf } from '../domain/chain/part-registry.js';
import type { ActivityDeps } from './context.js';
import { StepRejection, stepRejected } from './step-failures.js';
import { holderSigner, sendMirrored } from './ledger-writes.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface BundleParams {
  into: string;
}

export interface BundleOutput {
  bundle: string;
  txHash: Hex | null;
  [key: string]: unknown;
}

export function createBundleActivities(deps: ActivityDeps) {
  const { db, registry } = deps;
  return {
    async bundleStep(call: StepCall<BundleParams>): Promise<BundleOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const bundleId = tokenIdOf(call.params.into);
        const tokenId = tokenIdOf(call.partId);
        if (!(await registry.exists(bundleId)))
          throw stepRejected(StepRejection.BundleNotFound, `bundle ${call.params.into} has no token on chain (start it first)`);
        const holder = await holderSigner(deps, call.params.into);
        const sent = await sendMirrored(deps, {
          ...stepWrite('bundle', call, call.params.into),
          account: holder.account,
          to: registry.address,
          data: registry.bundleCall(bundleId, tokenId),
          abi: partRegistryAbi,
          isDone: async () => (await registry.bundleOf(tokenId)) === bundleId,
        });
        return { bundle: call.params.into, txHash: sent.txHash };
      });
    },

    async unbundleStep(call: StepCall<Record<string, never>>): Promise<BundleOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const tokenId = tokenIdOf(call.partId);
        const current = await registry.bundleOf(tokenId);
        // After a lost reply the part is out already: the chain's Unbundled event names the bundle.
        const bundleId = current !== 0n ? current : await registry.lastBundleLeft(tokenId);
        if (bundleId === null) throw stepRejected(StepRejection.PartNotBundled, `part ${call.partId} is in no bundle`);
        const bundle = await registry.partIdOf(bundleId);
        const holder = await holderSigner(deps, bundle);
        const sent = await sendMirrored(deps, {
          ...stepWrite('unbundle', call),
          account: holder.account,
          to: registry.address,
          data: registry.unbundleCall(tokenId),
          abi: partRegistryAbi,
          isDone: async () => (await registry.bundleOf(tokenId)) === 0n,
        });
        return { bundle, txHash: sent.txHash };
      });
    },
  };
}
