// Makes a participant's standing on chain match its record: every participant may register parts
// (REGISTRAR_ROLE); those with the `certifier` role are accepted certifiers (CERTIFIER_ROLE), and lose
// it when the role is taken away. The contract admin signs. On a dev chain the participant also
// gets gas money. Each write is named by the request, so a retry never grants or pays twice.
import { parseEther } from 'viem';
import type { Address, Hex, LocalAccount } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { CERTIFIER_ROLE, REGISTRAR_ROLE } from '../chain/part-registry.js';
import type { PartRegistry } from '../chain/part-registry.js';
import type { TxSender } from '../chain/tx-sender.js';

export interface OnboardingDeps {
  registry: PartRegistry;
  txSender: TxSender;
  /** The contract admin's account. */
  admin: LocalAccount;
  /** Give the participant gas money (dev chains only). */
  fund: boolean;
}

export interface LedgerStanding {
  registrar: boolean;
  certifier: boolean;
}

const FUND_BELOW = parseEther('1');
const FUND_AMOUNT = parseEther('10');

export async function syncParticipantOnChain(
  { registry, txSender, admin, fund }: OnboardingDeps,
  participant: { address: string; roles: string[] },
  requestId: string,
): Promise<LedgerStanding> {
  const address = participant.address as Address;
  const wanted: [string, Hex, boolean][] = [
    ['registrar', REGISTRAR_ROLE, true],
    ['certifier', CERTIFIER_ROLE, participant.roles.includes('certifier')],
  ];
  for (const [name, role, want] of wanted) {
    if ((await registry.hasRole(role, address)) === want) continue;
    await txSender.send({
      key: `role:${want ? 'grant' : 'revoke'}:${name}:${address}:${requestId}`,
      account: admin,
      to: registry.address,
      data: want ? registry.grantRoleCall(role, address) : registry.revokeRoleCall(role, address),
      abi: partRegistryAbi,
      isDone: async () => (await registry.hasRole(role, address)) === want,
    });
  }
  if (fund && (await registry.client.getBalance({ address })) < FUND_BELOW) {
    await txSender.send({
      key: `dev-fund:${address}:${requestId}`,
      account: admin,
      to: address,
      data: '0x',
      value: FUND_AMOUNT,
      isDone: async () => (await registry.client.getBalance({ address })) >= FUND_BELOW,
    });
  }
  return { registrar: true, certifier: participant.roles.includes('certifier') };
}
