import { describe, expect, it } from 'vitest';
import { keccak256, toHex } from 'viem';
import { canonicalJson, metadataHashOf, tokenIdOf } from '../../domain/chain/part-registry.js';
import { PART_ID_PATTERN } from '../../workflows/definition.js';

describe('token ids', () => {
  it('are keccak256 of the UTF-8 part id, so anyone can derive them', () => {
    expect(tokenIdOf('urn:epc:id:sgtin:0614141.107346.2017')).toBe(BigInt(keccak256(toHex('urn:epc:id:sgtin:0614141.107346.2017'))));
    expect(tokenIdOf('wafer-1')).not.toBe(tokenIdOf('wafer-2'));
    expect(tokenIdOf('Ünïcode-lot')).toBe(BigInt(keccak256(new TextEncoder().encode('Ünïcode-lot'))));
  });
});

describe('metadata hash', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(metadataHashOf({ lot: 'L1', plant: 'P' })).toBe(metadataHashOf({ plant: 'P', lot: 'L1' }));
    expect(metadataHashOf({ lot: 'L1' })).not.toBe(metadataHashOf({ lot: 'L2' }));
  });
});

describe('part id format', () => {
  it.each(['urn:epc:id:sgtin:0614141.107346.2017', 'wafer-7', 'A', 'lot_2026.11'])('accepts %s', (id) =>
    expect(PART_ID_PATTERN.test(id)).toBe(true),
  );
  it.each(['', 'has space', 'a/b', ':leading', 'x'.repeat(201)])('rejects %j', (id) => expect(PART_ID_PATTERN.test(id)).toBe(false));
});
