// ABIs registered with the contract gateway: each malformed entry refused naming its path, a type
// that is not Solidity's (uint257, bytes33) refused, a compiler's ABI accepted as it is.
import { describe, expect, it } from 'vitest';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { abiProblems } from '../../domain/gateway/abi-validation.js';

const fn = (inputs: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'function',
  name: 'place',
  inputs,
  outputs: [],
  stateMutability: 'nonpayable',
  ...extra,
});

describe('ABI validation', () => {
  it("accepts a compiler's ABI as it is", () => {
    expect(abiProblems(partRegistryAbi)).toEqual([]);
    expect(
      abiProblems([
        fn([
          { name: 'ids', type: 'uint256[3][]' },
          { name: 'order', type: 'tuple[]', components: [{ name: 'sku', type: 'string' }] },
        ]),
      ]),
    ).toEqual([]);
  });

  it('names the entry and path of a missing or misshapen part', () => {
    expect(abiProblems([{ type: 'function', name: 'f' }])).toEqual([
      { field: 'abi[0].inputs', message: 'required' },
      { field: 'abi[0].outputs', message: 'required' },
    ]);
    expect(abiProblems([fn([]), fn([{ name: 'x' }])])).toEqual([{ field: 'abi[1].inputs[0].type', message: 'required: a Solidity type' }]);
    expect(abiProblems([fn([], { stateMutability: 'sometimes' })])).toEqual([
      { field: 'abi[0].stateMutability', message: 'expected one of pure, view, nonpayable, payable' },
    ]);
    expect(abiProblems([{ type: 'method' }, 'x'])).toEqual([
      { field: 'abi[0].type', message: 'expected one of function, event, error, constructor, fallback, receive' },
      { field: 'abi[1]', message: 'expected an ABI entry object' },
    ]);
    expect(abiProblems({ type: 'function' })).toEqual([{ field: 'abi', message: 'expected an array of ABI entries' }]);
  });

  it('refuses types that are not Solidity types, inside tuples and arrays too', () => {
    const notSolidity = (type: string) =>
      `"${type}" is not a Solidity type (expected address, bool, string, bytes, bytes1 to bytes32, uint8 to uint256 or int8 to int256 in steps of 8, function, tuple, or an array of one of them)`;
    expect(abiProblems([fn([{ name: 'qty', type: 'uint257' }])])).toEqual([
      { field: 'abi[0].inputs[0].type', message: notSolidity('uint257') },
    ]);
    expect(abiProblems([{ type: 'event', name: 'Placed', inputs: [{ name: 'ref', type: 'bytes33', indexed: true }] }])).toEqual([
      { field: 'abi[0].inputs[0].type', message: notSolidity('bytes33') },
    ]);
    const nested = fn([
      {
        name: 'order',
        type: 'tuple[]',
        components: [
          { name: 'sku', type: 'string' },
          { name: 'qty', type: 'int7[2]' },
        ],
      },
    ]);
    expect(abiProblems([nested])).toEqual([{ field: 'abi[0].inputs[0].components[1].type', message: notSolidity('int7[2]') }]);
    expect(abiProblems([fn([{ name: 'order', type: 'tuple' }])])).toEqual([
      { field: 'abi[0].inputs[0].components', message: 'required for a tuple: its fields' },
    ]);
  });
});
