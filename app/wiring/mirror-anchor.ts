// Anchoring the mirror's hash-chain head on chain, in the processes that hold the registrar's key
// (`tracewell worker`, `tracewell dev`): the listener process has no keys.
import type { AppConfig } from '../config/app-config.js';
import { MirrorAnchorer } from '../../domain/mirror/anchor.js';
import { REGISTRAR_KEY_REF } from '../../domain/participants/keystore.js';
import type { Core } from './core.js';

/** Starts anchoring on the schedule of MIRROR_ANCHOR_EVENTS and MIRROR_ANCHOR_INTERVAL_MS (both 0: never). */
export async function startMirrorAnchor(core: Core, config: AppConfig, log?: (line: string) => void): Promise<MirrorAnchorer> {
  const anchorer = new MirrorAnchorer(
    {
      db: core.database.db,
      ledger: core.listener.ledger,
      registry: core.registry,
      txSender: core.txSender,
      account: await core.keys.account(REGISTRAR_KEY_REF),
      log,
    },
    { everyEvents: config.MIRROR_ANCHOR_EVENTS, everyMs: config.MIRROR_ANCHOR_INTERVAL_MS },
  );
  anchorer.start();
  return anchorer;
}
