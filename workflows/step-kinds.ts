// The step-kind registry: one entry per kind a lifecycle definition may use, as plain data. The
// entry names the kind's parameters (their shape, which name a role), what it leaves in the part's
// variables, and the activity that runs it. The authoring schema (zod, in domain/lifecycles), the
// compiler, validation, the workflow's edit check and the activity contract are all built from it.
// Pure data: bundled into the workflow sandbox.

/**
 * The shape of a step parameter, as authored:
 * - role: a participant role (whether it is a known role is checked with a suggestion)
 * - text: a non-empty string, a literal or a `${...}` reference
 * - texts: a text or a non-empty list of them (e.g. part ids)
 * - name: lowercase letters, digits and dashes (event names, certificate kinds)
 * - names: a non-empty list of names
 * - duration: `500ms`, `30s`, `5m`, `2h`, `7d`; compiled also to `<param>Ms` (null when absent)
 * - object: free-form data (metadata, recorded event data)
 * - fields: field declarations (an `await` step's payload); compiled with `required` filled in
 */
export type StepParamType = 'role' | 'text' | 'texts' | 'name' | 'names' | 'duration' | 'object' | 'fields';

export interface StepParamSpec {
  type: StepParamType;
  optional?: boolean;
  description?: string;
  /** For names: what the name is, for the error message (`event: lowercase letters…`). */
  what?: string;
}

export interface StepKindSpec {
  /** One line for the published JSON Schema. */
  description: string;
  params: Record<string, StepParamSpec>;
  /**
   * What the step leaves under its id in the part's variables (`${stepId.field}`); `payload` for an
   * `await` step, whose outputs are the fields its payload declares.
   */
  outputs: readonly string[] | 'payload';
  /** The activity that runs the kind; none for a kind the workflow runs itself (`await`). */
  activity?: string;
}

/** Where a step sends a token: a role, optionally narrowed to one participant holding it. */
const recipient = {
  to: { type: 'role' },
  participant: { type: 'text', optional: true, description: 'which participant holding the role (default: the only one)' },
} as const;

export const STEP_KIND_REGISTRY = {
  mint: {
    description: "the first holder registers the part's token",
    params: {
      ...recipient,
      metadata: { type: 'object', optional: true },
      from: {
        type: 'texts',
        optional: true,
        description: 'the parts this one is made from (held by the minter, not consumed), e.g. its ore lot',
      },
    },
    outputs: ['tokenId', 'owner', 'txHash'],
    activity: 'mintStep',
  },
  transfer: {
    description: 'move a token to a participant',
    params: {
      ...recipient,
      part: { type: 'text', optional: true, description: 'another part to move, e.g. the pallet (default: this part)' },
    },
    outputs: ['part', 'owner', 'txHash'],
    activity: 'transferStep',
  },
  await: {
    description: 'wait for a named signal or update',
    params: {
      event: { type: 'name', what: 'event' },
      payload: { type: 'fields', optional: true },
      by: {
        type: 'role',
        optional: true,
        description: "the role whose company bound to the part may send the event (default: the part's current holder)",
      },
    },
    outputs: 'payload',
  },
  record: {
    description: 'anchor an event hash on chain',
    params: { event: { type: 'name', what: 'event' }, data: { type: 'object', optional: true } },
    outputs: ['hash', 'txHash'],
    activity: 'recordStep',
  },
  'attach-certificate': {
    description: 'the issuer anchors the hash of its signed certificate document (from the vault) on chain',
    params: {
      certificate: { type: 'name', what: 'certificate kind' },
      document: {
        type: 'text',
        description: 'the certificate document in the vault: its id or SHA-256 hash, usually a reference such as ${report.document}',
      },
      issuer: { type: 'role' },
      participant: { type: 'text', optional: true, description: 'which participant holding the issuer role (default: the only one)' },
      validFor: { type: 'duration', optional: true },
    },
    outputs: ['certificate', 'document', 'documentHash', 'issuer', 'validUntil', 'txHash'],
    activity: 'attachCertificateStep',
  },
  certify: {
    description:
      'check that certificates of the given kinds are attached, unexpired, issued by an accepted certifier, and that their vault documents verify',
    params: { requires: { type: 'names', what: 'certificate kind' } },
    outputs: ['certificates'],
    activity: 'certifyStep',
  },
  bundle: {
    description: 'put this part into a bundle',
    params: { into: { type: 'text', description: 'the bundle part (e.g. a pallet)' } },
    outputs: ['bundle', 'txHash'],
    activity: 'bundleStep',
  },
  unbundle: { description: 'take this part out of its bundle', params: {}, outputs: ['bundle', 'txHash'], activity: 'unbundleStep' },
  assemble: {
    description: 'consume parts into this part as its components',
    params: { components: { type: 'texts' } },
    outputs: ['components', 'txHash'],
    activity: 'assembleStep',
  },
  decommission: {
    description: 'the holder takes the token out of circulation for good',
    params: { part: { type: 'text', optional: true, description: 'another part to take out of circulation (default: this part)' } },
    outputs: ['part', 'txHash'],
    activity: 'decommissionStep',
  },
} as const satisfies Record<string, StepKindSpec>;

type Registry = typeof STEP_KIND_REGISTRY;
export type LifecycleStepKind = keyof Registry;

/** The kinds, in the registry's order (the order error messages list them in). */
export const STEP_KINDS = Object.keys(STEP_KIND_REGISTRY) as unknown as readonly [LifecycleStepKind, ...LifecycleStepKind[]];

/** The kinds an activity runs, and the name of each one's activity. */
export type ActivityStepKind = { [K in LifecycleStepKind]: Registry[K] extends { activity: string } ? K : never }[LifecycleStepKind];
export type StepActivityName = Registry[ActivityStepKind]['activity'];

export function stepKindSpec(kind: LifecycleStepKind): StepKindSpec {
  return STEP_KIND_REGISTRY[kind];
}

/** The kind's parameter names, in authored order (what an operator may edit). */
export function paramsOf(kind: LifecycleStepKind): string[] {
  return Object.keys(stepKindSpec(kind).params);
}

/** The kind's parameters that name a participant role. */
export function roleFieldsOf(kind: LifecycleStepKind): string[] {
  return Object.entries(stepKindSpec(kind).params)
    .filter(([, spec]) => spec.type === 'role')
    .map(([name]) => name);
}

/** Every parameter name that is a role in some kind (`to`, `issuer`). */
export const ROLE_FIELDS: readonly string[] = [...new Set(STEP_KINDS.flatMap(roleFieldsOf))];
