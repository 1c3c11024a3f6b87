import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { loadAppConfig } from '../../app/config/app-config.js';
import { parseDuration } from '../../workflows/duration.js';
import { ConfigError } from '../../app/config/config-error.js';
import { activityPolicies, loadTemporalConfig, parseTemporalConfig } from '../../app/config/temporal.js';

const shipped = parseYaml(readFileSync('temporal.yaml', 'utf8')) as Record<string, any>;

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('temporal.yaml', () => {
  it('loads the shipped file with durations in milliseconds', () => {
    const config = loadTemporalConfig('temporal.yaml', {});
    expect(config.connection).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', tls: false });
    expect(config.activities.default.retry.initialInterval).toBe(200);
    expect(config.activities.chain.startToCloseTimeout).toBe(60_000);
    expect(activityPolicies(config).chain.retry).toMatchObject({ initialIntervalMs: 500, maximumIntervalMs: 30_000, maximumAttempts: 20 });
  });

  it('lets environment variables override settings, parsed by type', () => {
    const config = parseTemporalConfig(shipped, {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'supply',
      TEMPORAL_TLS: 'true',
      TEMPORAL_MAX_CACHED_WORKFLOWS: '50',
    });
    expect(config.connection).toMatchObject({ address: 'temporal.internal:7233', namespace: 'supply', tls: true });
    expect(config.worker.maxCachedWorkflows).toBe(50);
  });

  it('names the setting (and its variable) when a value is wrong', () => {
    const issues = issuesOf(() => parseTemporalConfig(shipped, { TEMPORAL_MAX_CACHED_WORKFLOWS: 'lots' }));
    expect(issues).toEqual([
      'temporal.yaml: worker.maxCachedWorkflows (or TEMPORAL_MAX_CACHED_WORKFLOWS): Expected number, received string',
    ]);
  });

  it('reads the ledger knobs from the file and the environment, and names a bad one', () => {
    expect(parseTemporalConfig(shipped, {}).ledger).toEqual({
      batchMaxItems: 100,
      batchWaitMs: 50,
      confirmations: 0,
      stuckAfterMs: 60_000,
    });
    const tuned = parseTemporalConfig(shipped, { LEDGER_BATCH_MAX_ITEMS: '1', LEDGER_BATCH_WAIT_MS: '200', LEDGER_CONFIRMATIONS: '12' });
    expect(tuned.ledger).toMatchObject({ batchMaxItems: 1, batchWaitMs: 200, confirmations: 12 });
    const issues = issuesOf(() => parseTemporalConfig(shipped, { LEDGER_BATCH_MAX_ITEMS: '0' }));
    expect(issues).toEqual([expect.stringMatching(/^temporal\.yaml: ledger\.batchMaxItems \(or LEDGER_BATCH_MAX_ITEMS\): /)]);
  });

  it('rejects a bad duration, an unknown key and a bad address in one report', () => {
    const document = structuredClone(shipped);
    document.activities.chain.retry.initialInterval = 'soon';
    document.worker.maxThreads = 4;
    document.connection.address = 'localhost';
    const issues = issuesOf(() => parseTemporalConfig(document, {}));
    expect(issues).toContain('temporal.yaml: activities.chain.retry.initialInterval: not a duration: "soon" (use e.g. 500ms, 30s, 5m)');
    expect(issues).toContain("temporal.yaml: worker: Unrecognized key(s) in object: 'maxThreads'");
    expect(issues).toContain('temporal.yaml: connection.address (or TEMPORAL_ADDRESS): expected host:port');
  });

  it('reports a missing file and invalid YAML with the path', () => {
    expect(() => loadTemporalConfig('/nonexistent/temporal.yaml', {})).toThrow(/cannot read \/nonexistent\/temporal.yaml/);
    const dir = mkdtempSync(join(tmpdir(), 'tw-config-'));
    writeFileSync(join(dir, 'temporal.yaml'), 'connection: [unclosed');
    expect(() => loadTemporalConfig(join(dir, 'temporal.yaml'), {})).toThrow(/temporal.yaml: not valid YAML/);
  });
});

describe('environment settings', () => {
  it('applies defaults', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({ API_PORT: 3000, CHAIN_PORT: 8545, TEMPORAL_LOG_LEVEL: 'WARN' });
    expect(config.TRACEWELL_TEMPORAL_CONFIG).toBe(join(process.cwd(), 'temporal.yaml'));
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names each invalid variable', () => {
    const issues = issuesOf(() => loadAppConfig({ API_PORT: 'http', DATABASE_URL: 'mysql://x', PART_REGISTRY_ADDRESS: '0x12' }));
    expect(issues).toEqual([
      'environment: API_PORT: Expected number, received nan',
      'environment: DATABASE_URL: expected postgres://…',
      'environment: PART_REGISTRY_ADDRESS: expected a 0x-prefixed 20-byte address',
    ]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['42', 42],
    [100, 100],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5 minutes', '-1s', 'ms'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
});
