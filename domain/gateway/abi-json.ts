// Solidity ABI types as JSON: the JSON Schema of each parameter, and the conversion of JSON values to
// the arguments viem encodes (and of decoded results back to JSON). Integers travel as decimal
// strings (JSON numbers lose precision past 2^53), bytes as 0x-hex, tuples as objects keyed by their
// component names, arrays (fixed or dynamic, of anything, tuples included) as JSON arrays.
import { getAddress, isAddress } from 'viem';
import type { AbiParameter } from 'viem';

export type JsonSchema = Record<string, unknown>;

/** A value that does not fit its ABI type: `field` is the JSON path of the value. */
export class AbiValueError extends Error {
  override name = 'AbiValueError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const ARRAY = /^(.*)\[(\d*)\]$/;
const INTEGER = /^(u?)int(\d*)$/;
const FIXED_BYTES = /^bytes(\d+)$/;

type TupleParameter = AbiParameter & { components: readonly AbiParameter[] };

/** The element type of an array type (`uint256[3][]` → `uint256[3]`), with its length when fixed. */
function arrayOf(type: string): { element: string; length?: number } | undefined {
  const match = ARRAY.exec(type);
  if (!match) return undefined;
  return { element: match[1]!, ...(match[2] ? { length: Number(match[2]) } : {}) };
}

function componentsOf(parameter: AbiParameter): readonly AbiParameter[] {
  return (parameter as TupleParameter).components ?? [];
}

/** Names for the fields of a tuple; unnamed components are `_0`, `_1`, …. */
export function fieldName(parameter: AbiParameter, index: number): string {
  return parameter.name ? parameter.name : `_${index}`;
}

/** The JSON Schema of values of one ABI parameter. */
export function schemaOf(parameter: AbiParameter): JsonSchema {
  const described = (schema: JsonSchema) => ({
    ...schema,
    ...(parameter.internalType && parameter.internalType !== parameter.type ? { description: parameter.internalType } : {}),
  });
  const array = arrayOf(parameter.type);
  if (array) {
    const items = schemaOf({ ...parameter, type: array.element, name: '' } as AbiParameter);
    return described({ type: 'array', items, ...(array.length === undefined ? {} : { minItems: array.length, maxItems: array.length }) });
  }
  if (parameter.type === 'tuple') {
    const components = componentsOf(parameter);
    const properties = Object.fromEntries(components.map((component, index) => [fieldName(component, index), schemaOf(component)]));
    return described({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });
  }
  const integer = INTEGER.exec(parameter.type);
  if (integer) {
    const bits = Number(integer[2] || 256);
    return described({
      type: 'string',
      pattern: integer[1] ? '^[0-9]{1,78}$' : '^-?[0-9]{1,78}$',
      description: `${parameter.type}: a ${integer[1] ? 'non-negative ' : ''}${bits}-bit integer as a decimal string`,
    });
  }
  if (parameter.type === 'address') return described({ type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' });
  if (parameter.type === 'bool') return described({ type: 'boolean' });
  if (parameter.type === 'string') return described({ type: 'string' });
  if (parameter.type === 'bytes') return described({ type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' });
  const fixed = FIXED_BYTES.exec(parameter.type);
  if (fixed) return described({ type: 'string', pattern: `^0x[0-9a-fA-F]{${Number(fixed[1]) * 2}}$` });
  throw new Error(`unsupported ABI type ${parameter.type}`);
}

/** The JSON value `value` as the argument viem encodes for `parameter`; `field` names it in errors. */
export function toAbiValue(parameter: AbiParameter, value: unknown, field: string): unknown {
  const array = arrayOf(parameter.type);
  if (array) {
    if (!Array.isArray(value)) throw new AbiValueError(field, `expected an array (${parameter.type})`);
    if (array.length !== undefined && value.length !== array.length)
      throw new AbiValueError(field, `expected ${array.length} items, got ${value.length}`);
    const element = { ...parameter, type: array.element } as AbiParameter;
    return value.map((item, index) => toAbiValue(element, item, `${field}[${index}]`));
  }
  if (parameter.type === 'tuple') {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AbiValueError(field, 'expected an object');
    const components = componentsOf(parameter);
    const names = components.map(fieldName);
    const extra = Object.keys(value).filter((key) => !names.includes(key));
    if (extra.length > 0) throw new AbiValueError(field, `unknown field(s) ${extra.join(', ')}; expected ${names.join(', ')}`);
    const converted = components.map((component, index) => {
      const name = names[index]!;
      if (!(name in value)) throw new AbiValueError(`${field}.${name}`, 'required');
      return toAbiValue(component, (value as Record<string, unknown>)[name], `${field}.${name}`);
    });
    // viem takes named tuples as objects, unnamed ones as arrays.
    return components.every((component) => component.name)
      ? Object.fromEntries(names.map((name, index) => [name, converted[index]]))
      : converted;
  }
  const integer = INTEGER.exec(parameter.type);
  if (integer) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isSafeInteger(value)))
      throw new AbiValueError(field, `expected a decimal string (${parameter.type})`);
    if (typeof value === 'string' && !/^-?[0-9]+$/.test(value))
      throw new AbiValueError(field, `expected a decimal string (${parameter.type}), got "${value}"`);
    const big = BigInt(value);
    const bits = BigInt(Number(integer[2] || 256));
    const [min, max] = integer[1] ? [0n, 2n ** bits - 1n] : [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n];
    if (big < min || big > max) throw new AbiValueError(field, `out of range for ${parameter.type}`);
    return big;
  }
  if (parameter.type === 'address') {
    if (typeof value !== 'string' || !isAddress(value, { strict: false }))
      throw new AbiValueError(field, 'expected a 0x-prefixed 20-byte address');
    return getAddress(value);
  }
  if (parameter.type === 'bool') {
    if (typeof value !== 'boolean') throw new AbiValueError(field, 'expected true or false');
    return value;
  }
  if (parameter.type === 'string') {
    if (typeof value !== 'string') throw new AbiValueError(field, 'expected a string');
    return value;
  }
  const fixed = FIXED_BYTES.exec(parameter.type);
  if (parameter.type === 'bytes' || fixed) {
    const pattern = fixed ? new RegExp(`^0x[0-9a-fA-F]{${Number(fixed[1]) * 2}}$`) : /^0x([0-9a-fA-F]{2})*$/;
    if (typeof value !== 'string' || !pattern.test(value))
      throw new AbiValueError(
        field,
        fixed ? `expected 0x and ${Number(fixed[1]) * 2} hex digits (${parameter.type})` : 'expected 0x-prefixed hex bytes',
      );
    return value.toLowerCase();
  }
  throw new AbiValueError(field, `unsupported ABI type ${parameter.type}`);
}

/** A decoded value of `parameter` as JSON (the inverse of `toAbiValue`). */
export function fromAbiValue(parameter: AbiParameter, value: unknown): unknown {
  const array = arrayOf(parameter.type);
  if (array) {
    const element = { ...parameter, type: array.element } as AbiParameter;
    return (value as unknown[]).map((item) => fromAbiValue(element, item));
  }
  if (parameter.type === 'tuple') {
    const components = componentsOf(parameter);
    return Object.fromEntries(
      components.map((component, index) => {
        const raw = Array.isArray(value) ? value[index] : (value as Record<string, unknown>)[component.name ?? ''];
        return [fieldName(component, index), fromAbiValue(component, raw)];
      }),
    );
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Named JSON arguments (an object keyed by parameter names, `_0`… for unnamed ones) as viem's argument list. */
export function toAbiArgs(parameters: readonly AbiParameter[], input: unknown, field = 'args'): unknown[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new AbiValueError(field, 'expected an object of named arguments');
  const names = parameters.map(fieldName);
  const extra = Object.keys(input).filter((key) => !names.includes(key));
  if (extra.length > 0) throw new AbiValueError(field, `unknown argument(s) ${extra.join(', ')}; expected ${names.join(', ') || 'none'}`);
  return parameters.map((parameter, index) => {
    const name = names[index]!;
    if (!(name in input)) throw new AbiValueError(`${field}.${name}`, 'required');
    return toAbiValue(parameter, (input as Record<string, unknown>)[name], `${field}.${name}`);
  });
}

/** The JSON Schema of a parameter list as an object of named arguments. */
export function argsSchemaOf(parameters: readonly AbiParameter[]): JsonSchema {
  const properties = Object.fromEntries(parameters.map((parameter, index) => [fieldName(parameter, index), schemaOf(parameter)]));
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}
