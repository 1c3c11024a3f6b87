// Outside `dev`, worker and API processes never deploy a contract of their own.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ConfigError } from '../../app/config/errors.js';
import { openCore } from '../../app/wiring/core.js';
import { testAppConfig } from '../support/env.js';

// A fresh embedded database knows no deployment.
const freshConfig = (overrides: NodeJS.ProcessEnv = {}) => testAppConfig({ DATABASE_URL: '', ...overrides });

describe('PartRegistry deployment', () => {
  it('is refused to a worker or API process when none is known, naming the fix', async () => {
    const opening = openCore({ config: freshConfig(), rpcUrl: inject('rpcUrl'), dev: false });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(/PART_REGISTRY_ADDRESS: no PartRegistry is known for chain 31337; run `tracewell deploy` once/);
  });

  it('checks that a configured address holds a contract', async () => {
    const config = freshConfig({ PART_REGISTRY_ADDRESS: '0x000000000000000000000000000000000000dEaD' });
    await expect(openCore({ config, rpcUrl: inject('rpcUrl'), dev: false })).rejects.toThrow(
      'PART_REGISTRY_ADDRESS: no contract at 0x000000000000000000000000000000000000dEaD on chain 31337',
    );
  });

  it('is deployed by `deploy`, then used by a process given its address', async () => {
    const deployer = await openCore({ config: freshConfig(), rpcUrl: inject('rpcUrl'), dev: false, deploy: true });
    const address = deployer.registry.address;
    await deployer.close();
    const worker = await openCore({ config: freshConfig({ PART_REGISTRY_ADDRESS: address }), rpcUrl: inject('rpcUrl'), dev: false });
    expect(worker.registry.address).toBe(address);
    await worker.close();
  });
});
