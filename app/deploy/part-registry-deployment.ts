// Finds or deploys the PartRegistry: a configured address wins; otherwise the deployment remembered
// in SQL for this chain is reused while its code is still there; otherwise it is deployed once.
import { and, eq } from 'drizzle-orm';
import { createWalletClient, getAddress, http, keccak256 } from 'viem';
import type { Address, LocalAccount } from 'viem';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { ConfigError } from '../config/config-error.js';
import type { Db } from '../../db/client.js';
import { contractDeployments } from '../../db/schema.js';
import type { ChainConnection } from '../../domain/chain/connection.js';

const NAME = 'PartRegistry';

export interface Deployment {
  address: Address;
  /** True when this call deployed it; false when an existing deployment was reused. */
  deployed: boolean;
}

async function hasCode(chain: ChainConnection, address: Address): Promise<boolean> {
  const code = await chain.client.getCode({ address });
  return code !== undefined && code !== '0x';
}

/** The configured PartRegistry, or the one remembered in SQL for this chain while its code is there; null when neither. */
async function findPartRegistry(db: Db, chain: ChainConnection, configuredAddress?: string): Promise<Address | null> {
  if (configuredAddress) {
    const address = getAddress(configuredAddress);
    if (!(await hasCode(chain, address))) {
      throw new ConfigError(`PART_REGISTRY_ADDRESS: no contract at ${address} on chain ${chain.chainId}`);
    }
    return address;
  }
  const [remembered] = await db
    .select()
    .from(contractDeployments)
    .where(and(eq(contractDeployments.chainId, chain.chainId), eq(contractDeployments.name, NAME)));
  if (remembered && remembered.bytecodeHash === keccak256(partRegistryBytecode) && (await hasCode(chain, getAddress(remembered.address)))) {
    return getAddress(remembered.address);
  }
  return null;
}

/** Only `tracewell deploy` calls this, under its lock: concurrent deploys must not each deploy their own. */
export async function ensurePartRegistry(
  db: Db,
  chain: ChainConnection,
  registrar: LocalAccount,
  configuredAddress?: string,
): Promise<Deployment> {
  const found = await findPartRegistry(db, chain, configuredAddress);
  if (found) return { address: found, deployed: false };
  const bytecodeHash = keccak256(partRegistryBytecode);
  const wallet = createWalletClient({ account: registrar, chain: chain.client.chain, transport: http(chain.rpcUrl) });
  const txHash = await wallet.deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [registrar.address] });
  const receipt = await chain.client.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`PartRegistry deployment ${txHash} failed`);
  const address = getAddress(receipt.contractAddress);
  const row = { chainId: chain.chainId, name: NAME, address, txHash, bytecodeHash };
  await db
    .insert(contractDeployments)
    .values(row)
    .onConflictDoUpdate({
      target: [contractDeployments.chainId, contractDeployments.name],
      set: { address, txHash, bytecodeHash, createdAt: new Date() },
    });
  return { address, deployed: true };
}
