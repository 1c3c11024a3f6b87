// The sender's signature over a document: EIP-712 typed data signed with the sender's ledger key, so
// anyone holding the sender's address (on chain, in the participant list) can check who sent which
// content to whom, and when, without trusting this service.
import { recoverTypedDataAddress } from 'viem';
import type { Address, Hex, LocalAccount } from 'viem';

/** The algorithm id stored with every signature. */
export const SIGNATURE_ALGORITHM = 'eip712-secp256k1';

/** What the sender signs. Recipients are sorted, so the same facts always give the same message. */
export interface DocumentStatement {
  /** SHA-256 of the plaintext. */
  hash: Hex;
  kind: string;
  sender: Address;
  recipients: Address[];
  /** Milliseconds since the epoch. */
  timestamp: number;
}

const TYPES = {
  Document: [
    { name: 'hash', type: 'bytes32' },
    { name: 'kind', type: 'string' },
    { name: 'sender', type: 'address' },
    { name: 'recipients', type: 'address[]' },
    { name: 'timestamp', type: 'uint64' },
  ],
} as const;

function typedData(chainId: number, statement: DocumentStatement) {
  return {
    domain: { name: 'Tracewell Documents', version: '1', chainId },
    types: TYPES,
    primaryType: 'Document' as const,
    message: {
      hash: statement.hash,
      kind: statement.kind,
      sender: statement.sender,
      recipients: [...statement.recipients].map((a) => a.toLowerCase() as Address).sort(),
      timestamp: BigInt(statement.timestamp),
    },
  };
}

export function signDocument(account: LocalAccount, chainId: number, statement: DocumentStatement): Promise<Hex> {
  return account.signTypedData(typedData(chainId, statement));
}

/** The address that signed the statement, or undefined when the signature is malformed. */
export async function recoverDocumentSigner(chainId: number, statement: DocumentStatement, signature: Hex): Promise<Address | undefined> {
  try {
    return await recoverTypedDataAddress({ ...typedData(chainId, statement), signature });
  } catch {
    return undefined;
  }
}
