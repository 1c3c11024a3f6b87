// The demo's stack settings: the port settings a user gives (API_PORT, CHAIN_PORT, AZURITE_PORT,
// TEMPORAL_DEV_PORT, TEMPORAL_DEV_UI_PORT) are kept, so the printed URLs are the ones asked for; the
// ports left unset are free ones, so a demo never collides with a running `tracewell dev`.
import { freePortStackConfig } from '../../app/wiring/stack.js';

export function demoStackConfig(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): ReturnType<typeof freePortStackConfig> {
  return freePortStackConfig({ TRACEWELL_DATA_DIR: dataDir }, { env, keepSetPorts: true });
}
