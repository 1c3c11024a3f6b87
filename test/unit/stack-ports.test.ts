// The ports of a throwaway stack (the demo, the benchmarks): `npm run demo` keeps the port settings a
// user gives (API_PORT, CHAIN_PORT, AZURITE_PORT, TEMPORAL_DEV_PORT, TEMPORAL_DEV_UI_PORT) and takes
// free ones for the rest; the benchmarks always take free ones.
import { describe, expect, it } from 'vitest';
import { freePortStackConfig, STACK_PORT_SETTINGS } from '../../app/wiring/stack.js';
import { demoStackConfig } from '../../tools/demo/stack-settings.js';

/** The ports the stack would open, by setting name (0: a free one, picked at start). */
function portsOf({ config, temporal }: ReturnType<typeof freePortStackConfig>) {
  return {
    API_PORT: config.API_PORT,
    CHAIN_PORT: config.CHAIN_PORT,
    AZURITE_PORT: config.AZURITE_PORT,
    TEMPORAL_DEV_PORT: temporal.devServer.port,
    TEMPORAL_DEV_UI_PORT: temporal.devServer.uiPort,
  };
}

describe('freePortStackConfig', () => {
  it('names every port setting the stack opens', () => {
    expect(Object.keys(portsOf(freePortStackConfig({}, { env: {} })))).toEqual([...STACK_PORT_SETTINGS]);
  });

  it('for the demo, keeps each port the environment sets and frees the others', () => {
    const env = { API_PORT: '3999', TEMPORAL_DEV_UI_PORT: '8999', CHAIN_PORT: '' };
    expect(portsOf(demoStackConfig(undefined, env))).toEqual({
      API_PORT: 3999,
      CHAIN_PORT: 0, // set but empty counts as unset
      AZURITE_PORT: 0,
      TEMPORAL_DEV_PORT: 0,
      TEMPORAL_DEV_UI_PORT: 8999,
    });
    const all = { API_PORT: '4001', CHAIN_PORT: '4002', AZURITE_PORT: '4003', TEMPORAL_DEV_PORT: '4004', TEMPORAL_DEV_UI_PORT: '4005' };
    expect(portsOf(demoStackConfig(undefined, all))).toEqual({
      API_PORT: 4001,
      CHAIN_PORT: 4002,
      AZURITE_PORT: 4003,
      TEMPORAL_DEV_PORT: 4004,
      TEMPORAL_DEV_UI_PORT: 4005,
    });
  });

  it('without it (the benchmarks), frees every port whatever the environment says', () => {
    const env = { API_PORT: '3999', CHAIN_PORT: '4002', TEMPORAL_DEV_PORT: '4004' };
    expect(Object.values(portsOf(freePortStackConfig({}, { env })))).toEqual([0, 0, 0, 0, 0]);
  });

  it('lets the caller’s overrides win over the environment, for Temporal settings too', () => {
    const { config, temporal } = freePortStackConfig(
      { API_PORT: '5000', TEMPORAL_DEV_UI_PORT: '5001', TEMPORAL_NAMESPACE: 'demo' },
      { env: { API_PORT: '3999', TEMPORAL_NAMESPACE: 'other' }, keepSetPorts: true },
    );
    expect(config.API_PORT).toBe(5000);
    expect(temporal.devServer.uiPort).toBe(5001);
    expect(temporal.connection.namespace).toBe('demo');
  });

  it('for the demo, keeps the data directory it is given', () => {
    expect(demoStackConfig('/tmp/demo-data', {}).config.TRACEWELL_DATA_DIR).toBe('/tmp/demo-data');
    expect(demoStackConfig(undefined, { TRACEWELL_DATA_DIR: '' }).config.TRACEWELL_DATA_DIR).toBeUndefined();
  });

  it('reads the process environment by default', () => {
    const saved = process.env.API_PORT;
    process.env.API_PORT = '3998';
    try {
      expect(demoStackConfig(undefined).config.API_PORT).toBe(3998);
      expect(freePortStackConfig().config.API_PORT).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.API_PORT;
      else process.env.API_PORT = saved;
    }
  });
});
