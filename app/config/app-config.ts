// Tracewell's own settings, read from the environment and validated at start-up. Temporal's settings
// live in temporal.yaml (config/temporal.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { isNetwork } from '../../domain/streams/webhook-targets.js';

/** The project root: default file paths resolve from here, not from the working directory. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
/** `30s`, `15m`, `12h`, `7d` as milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .regex(/^\d{1,6}[smhd]$/, 'a number and a unit: s, m, h or d (e.g. 7d)')
    .default(fallback)
    .transform((v) => Number(v.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[v.slice(-1) as 's' | 'm' | 'h' | 'd']);
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const appEnvSchema = z.object({
  TRACEWELL_TEMPORAL_CONFIG: z.string().default(join(ROOT, 'temporal.yaml')),
  TRACEWELL_DATA_DIR: optionalString,
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port(3000),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'expected postgres://…'),
  CHAIN_RPC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), 'expected http(s)://…'),
  CHAIN_PORT: port(8545),
  CHAIN_MNEMONIC: optionalString,
  CHAIN_RECEIPT_TIMEOUT: z.coerce.number().int().positive().default(60_000),
  /** Give every participant gas money from the admin account (dev and test chains; `tracewell dev` always does). */
  CHAIN_FUND_PARTICIPANTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  PART_REGISTRY_ADDRESS: optionalString.refine(
    (v) => v === undefined || /^0x[0-9a-fA-F]{40}$/.test(v),
    'expected a 0x-prefixed 20-byte address',
  ),
  AZURE_STORAGE_CONNECTION_STRING: optionalString,
  AZURITE_PORT: port(10000),
  /** The blob container of the document vault. */
  DOCUMENTS_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'a blob container name: 3-63 lowercase letters, digits and single dashes')
    .default('documents'),
  /** Largest document accepted, in bytes (default 128 MiB); larger uploads answer 413. */
  DOCUMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(128 * 1024 * 1024),
  /** Largest request body (JSON, or a lifecycle's YAML) in bytes, default 1 MiB; larger ones answer 413. Uploads have DOCUMENT_MAX_BYTES. */
  API_BODY_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Blocks on top of a block before the ledger listener mirrors it (0 on a dev chain; a public chain wants more). */
  LEDGER_CONFIRMATIONS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** Most blocks one eth_getLogs call asks for (halved automatically while a node refuses the range). */
  LEDGER_BATCH_BLOCKS: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  /** How often the ledger listener looks for new blocks once caught up. */
  LEDGER_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /** First block to mirror when PART_REGISTRY_ADDRESS is given and its deployment is not known (default 0). */
  LEDGER_START_BLOCK: z.coerce.number().int().min(0).optional(),
  /** Anchor the mirror's hash-chain head on chain once this many events came since the last anchor (0: not by count). */
  MIRROR_ANCHOR_EVENTS: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
  /** Anchor it once this long passed since the last anchor, if any event came meanwhile (0: not by time). */
  MIRROR_ANCHOR_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3_600_000)
    .default(600_000),
  /** Failed attempts at one event after which a webhook subscription is marked dead. */
  WEBHOOK_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000).default(8),
  /** How long a webhook receiver has to answer. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /**
   * Addresses or CIDR ranges (comma-separated) webhooks may go to although they are private,
   * loopback, link-local, … (refused by default, against SSRF), e.g. `10.20.0.0/16,127.0.0.1`.
   */
  WEBHOOK_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((entries) => entries.every(isNetwork), 'comma-separated IP addresses or CIDR ranges (10.0.0.0/8, fd00::/8)'),
  /** The key webhook secrets are encrypted with in SQL: 32 bytes as 64 hex digits (default: derived from TRACEWELL_KEYSTORE_PASSPHRASE). */
  WEBHOOK_SECRETS_KEY: optionalString.refine((v) => v === undefined || /^[0-9a-fA-F]{64}$/.test(v), '64 hex digits (32 bytes)'),
  /** How long the webhook delivery log keeps a row (failed attempts at an undelivered event stay). */
  WEBHOOK_DELIVERY_RETENTION: duration('7d'),
  /** Azure Service Bus: enables the intake queue and the ledger-event topic (unset: HTTP only). */
  SERVICE_BUS_CONNECTION_STRING: optionalString,
  /** The queue the intake receives from. */
  SERVICE_BUS_INTAKE_QUEUE: z.string().min(1).default('tracewell-intake'),
  /** Intake messages handled at once. */
  SERVICE_BUS_INTAKE_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** The topic the ledger events are published to; `off` publishes none. */
  SERVICE_BUS_EVENTS_TOPIC: z.string().min(1).default('tracewell-events'),
  TRACEWELL_PARTICIPANTS: z.string().default(join(ROOT, 'app', 'seed', 'participants.yaml')),
  /** Where participants' encrypted key files live (default: keystore/ under TRACEWELL_DATA_DIR). */
  TRACEWELL_KEYSTORE_DIR: optionalString,
  /** Unlocks the key files; required outside `tracewell dev`. */
  TRACEWELL_KEYSTORE_PASSPHRASE: optionalString,
  /** scrypt cost of new key files (a power of two). */
  TRACEWELL_KEYSTORE_SCRYPT_N: z.coerce
    .number()
    .int()
    .min(2)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'a power of two')
    .default(131072),
  /** An API key for the `admin` participant, created at start-up: how the first admin gets in. */
  TRACEWELL_ADMIN_API_KEY: optionalString.refine((v) => v === undefined || v.length >= 24, 'at least 24 characters'),
  /** Lifecycle definitions published at start-up (each changed file becomes a new version). */
  TRACEWELL_LIFECYCLES: z.string().default(join(ROOT, 'app', 'seed', 'lifecycles')),
  /** Level of the Temporal SDK's own log (worker state, workflow bundling, activity failures). */
  TEMPORAL_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
});

export type AppConfig = z.infer<typeof appEnvSchema>;

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const result = appEnvSchema.safeParse(env);
  if (!result.success) throw ConfigError.fromZod('environment', result.error);
  return result.data;
}
