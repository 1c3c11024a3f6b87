import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileContracts, renderModule } from '../../contracts/compile-solidity.js';

describe('generated contract modules', () => {
  it('match the Solidity sources (run `npm run contracts:compile` after editing a contract)', () => {
    const compiled = compileContracts();
    expect([...compiled.keys()]).toContain('PartRegistry');
    const { abi, bytecode } = compiled.get('PartRegistry')!;
    expect(readFileSync('contracts/generated/PartRegistry.ts', 'utf8')).toBe(renderModule('PartRegistry', abi, bytecode));
  }, 120_000);
});
