// viem clients for the configured JSON-RPC node.
import { createPublicClient, defineChain, http } from 'viem';
import type { Chain, PublicClient, Transport } from 'viem';

export type ChainClient = PublicClient<Transport, Chain>;

export interface ChainConnection {
  client: ChainClient;
  chainId: number;
  rpcUrl: string;
}

/**
 * Connects to `rpcUrl` and learns its chain id. Local dev chains mine instantly, so receipts are
 * polled every `pollingIntervalMs` (viem's 4 s default would make every write wait seconds).
 */
export async function connectChain(rpcUrl: string, pollingIntervalMs = 50): Promise<ChainConnection> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: pollingIntervalMs });
  return { client, chainId, rpcUrl };
}
