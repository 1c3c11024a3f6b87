// A worker-like process for the transaction manager's takeover test: it submits mint intents for one
// signer through its own TransactionManager (so it becomes that signer's leader) and then stays up
// until the test SIGKILLs it. Settings come from the environment the test gives it.
import { zeroHash } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { Address } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { openDatabase } from '../../db/client.js';
import { connectChain } from '../../domain/chain/connection.js';
import { PartRegistry, tokenIdOf } from '../../domain/chain/part-registry.js';
import { DEFAULT_LEDGER_SETTINGS, TransactionManager } from '../../domain/chain/transaction-manager.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const database = await openDatabase({ url: env('TM_DATABASE_URL'), poolSize: 4 });
const chain = await connectChain(env('TM_RPC_URL'));
const registry = new PartRegistry(chain.client, env('TM_REGISTRY') as Address);
const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: Number(env('TM_SIGNER_INDEX')) });
const manager = new TransactionManager({
  db: database.db,
  locks: database,
  chain,
  registry: registry.address,
  settings: { ...DEFAULT_LEDGER_SETTINGS, batchWaitMs: 200 },
  log: (line) => process.stderr.write(`${line}\n`),
});
const prefix = env('TM_PREFIX');
for (let i = 0; i < Number(env('TM_COUNT')); i++) {
  const partId = `${prefix}:${i}`;
  void manager
    .send({
      key: `mint:${partId}`,
      account,
      to: registry.address,
      data: registry.registerCall(partId, zeroHash, []),
      abi: partRegistryAbi,
      isDone: () => registry.exists(tokenIdOf(partId)),
    })
    .catch(() => {});
}
process.stdout.write('submitted\n');
// Stays up, leading the signer, until killed.
setInterval(() => {}, 60_000);
