// Checks an ABI a caller registers before anything reads it, so a malformed one is refused naming
// the bad entry (`abi[2].inputs[0].type: "uint257" is not a Solidity type …`) instead of failing
// somewhere deeper. The grammar is abitype's (the ABI types viem itself is built on): its zod
// schemas for each kind of entry and for each Solidity type. Parameters are walked here first,
// because abitype's parameter schema is a union whose error for a bad tuple component points at
// the tuple, not at the component.
import {
  AbiConstructor,
  AbiError,
  AbiEvent,
  AbiFallback,
  AbiFunction,
  AbiReceive,
  SolidityAddress,
  SolidityArrayWithoutTuple,
  SolidityBool,
  SolidityBytes,
  SolidityFunction,
  SolidityInt,
  SolidityString,
} from 'abitype/zod';
import type { ZodError, ZodIssue, ZodTypeAny } from 'zod';

export interface AbiProblem {
  /** The JSON path of the bad value, e.g. `abi[2].inputs[0].type`. */
  field: string;
  message: string;
}

const ENTRY_SCHEMAS: Record<string, ZodTypeAny> = {
  function: AbiFunction,
  event: AbiEvent,
  error: AbiError,
  constructor: AbiConstructor,
  fallback: AbiFallback,
  receive: AbiReceive,
};

/** The parameter lists each kind of entry has. */
const PARAMETER_LISTS: Record<string, readonly string[]> = {
  function: ['inputs', 'outputs'],
  event: ['inputs'],
  error: ['inputs'],
  constructor: ['inputs'],
};

/** Every Solidity type that is not a tuple, as abitype spells them (`uint257`, `bytes33` fail). */
const PLAIN_TYPE = SolidityAddress.or(SolidityBool)
  .or(SolidityBytes)
  .or(SolidityFunction)
  .or(SolidityString)
  .or(SolidityInt)
  .or(SolidityArrayWithoutTuple);
const TUPLE_TYPE = /^tuple(\[[0-9]*\])*$/;
const TYPES_EXPECTED =
  'expected address, bool, string, bytes, bytes1 to bytes32, uint8 to uint256 or int8 to int256 in steps of 8, function, tuple, or an array of one of them';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Problems with one parameter and, for a tuple, its components. */
function parameterProblems(parameter: unknown, field: string): AbiProblem[] {
  if (!isObject(parameter)) return [{ field, message: 'expected a parameter object with a type' }];
  const { type, components } = parameter;
  if (typeof type !== 'string') return [{ field: `${field}.type`, message: 'required: a Solidity type' }];
  if (TUPLE_TYPE.test(type)) {
    if (!Array.isArray(components)) return [{ field: `${field}.components`, message: `required for a ${type}: its fields` }];
    return components.flatMap((component, index) => parameterProblems(component, `${field}.components[${index}]`));
  }
  if (!PLAIN_TYPE.safeParse(type).success)
    return [{ field: `${field}.type`, message: `"${type}" is not a Solidity type (${TYPES_EXPECTED})` }];
  return [];
}

/** A zod issue as a problem under `field`: "required" for a missing key, the schema's words otherwise. */
function issueProblem(issue: ZodIssue, field: string): AbiProblem {
  const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
  const missing = issue.code === 'invalid_type' && issue.received === 'undefined';
  const message = missing ? 'required' : issue.code === 'invalid_union' ? unionMessage(issue.unionErrors) : issue.message;
  return { field: `${field}${path}`, message };
}

/** A value none of a union's branches took: the literals it allows (a state mutability), when it is a choice of them. */
function unionMessage(branches: readonly ZodError[]): string {
  const issues = branches.flatMap((branch) => branch.issues);
  const allowed = issues.flatMap((issue) => (issue.code === 'invalid_literal' ? [String(issue.expected)] : []));
  return allowed.length > 0 && allowed.length === issues.length ? `expected one of ${allowed.join(', ')}` : 'not a valid value here';
}

/** Problems with one ABI entry. */
function entryProblems(entry: unknown, field: string): AbiProblem[] {
  if (!isObject(entry)) return [{ field, message: 'expected an ABI entry object' }];
  const schema = typeof entry.type === 'string' ? ENTRY_SCHEMAS[entry.type] : undefined;
  if (!schema) return [{ field: `${field}.type`, message: `expected one of ${Object.keys(ENTRY_SCHEMAS).join(', ')}` }];
  const parameters = (PARAMETER_LISTS[entry.type as string] ?? []).flatMap((list) => {
    const value = entry[list];
    if (value === undefined) return [];
    if (!Array.isArray(value)) return [{ field: `${field}.${list}`, message: 'expected an array of parameters' }];
    return value.flatMap((parameter, index) => parameterProblems(parameter, `${field}.${list}[${index}]`));
  });
  if (parameters.length > 0) return parameters;
  // abitype fills in a missing stateMutability on the object it is given: give it a copy.
  const parsed = schema.safeParse(structuredClone(entry));
  return parsed.success ? [] : parsed.error.issues.map((issue) => issueProblem(issue, field));
}

/** Every problem with an ABI (empty: it is well formed), each naming the entry and path. */
export function abiProblems(abi: unknown, field = 'abi'): AbiProblem[] {
  if (!Array.isArray(abi)) return [{ field, message: 'expected an array of ABI entries' }];
  return abi.flatMap((entry, index) => entryProblems(entry, `${field}[${index}]`));
}
