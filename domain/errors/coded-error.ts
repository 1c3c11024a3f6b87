// The one error class every coded failure is thrown as: a catalogue entry plus the values of its
// message template's named parameters (and optional structured details). Its code, status and
// message come from the entry, so the API answer, the intake's dead-letter reason and the CLI's
// exit code cannot disagree. Imports nothing, so every layer above workflows/ may use it.

/** The HTTP statuses a coded error may carry. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 500 | 503;

export const ERROR_STATUSES: readonly ErrorStatus[] = [400, 401, 403, 404, 409, 410, 413, 415, 422, 500, 503];

/** One catalogue entry: a snake_case code, its HTTP status and a message template with `{named}` parameters. */
export interface ErrorEntry<Code extends string = string, Template extends string = string> {
  readonly code: Code;
  readonly status: ErrorStatus;
  readonly message: Template;
}

/** The `{name}` parameters of a message template, as a union of names. */
export type TemplateParams<T extends string> = T extends `${string}{${infer Name}}${infer Rest}` ? Name | TemplateParams<Rest> : never;

/** The values an entry's template needs: an object with one value per parameter. */
export type ParamsOf<E extends ErrorEntry> = { readonly [K in TemplateParams<E['message']>]: string | number };

const PARAMETER = /\{([a-zA-Z][a-zA-Z0-9]*)\}/g;

/** The names a template uses, in order of first appearance. */
export function templateParams(template: string): string[] {
  return [...new Set([...template.matchAll(PARAMETER)].map((match) => match[1]!))];
}

/** The template with every `{name}` replaced by its value (a missing value is left visible as `{name}`). */
export function formatMessage(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(PARAMETER, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

type Arguments<E extends ErrorEntry> = [TemplateParams<E['message']>] extends [never]
  ? [params?: Record<string, never>, details?: unknown, options?: ErrorOptions]
  : [params: ParamsOf<E>, details?: unknown, options?: ErrorOptions];

export class CodedError<E extends ErrorEntry = ErrorEntry> extends Error {
  override name = 'CodedError';
  readonly entry: E;
  readonly params: Readonly<Record<string, string | number>>;
  /** Structured detail for a caller, e.g. `[{ field, message }]` for invalid input. */
  readonly details: unknown;

  constructor(entry: E, ...[params, details, options]: Arguments<E>) {
    super(formatMessage(entry.message, params ?? {}), options);
    this.entry = entry;
    this.params = params ?? {};
    this.details = details;
  }

  get code(): E['code'] {
    return this.entry.code;
  }

  get status(): ErrorStatus {
    return this.entry.status;
  }

  /**
   * An error another process coded and formatted already (an API answer the CLI received), kept as
   * it came: its entry's code and status, the message as sent.
   */
  static received(entry: ErrorEntry, message: string, details?: unknown): CodedError {
    const asSent: ErrorEntry<string, '{message}'> = { code: entry.code, status: entry.status, message: '{message}' };
    return new CodedError(asSent, { message }, details);
  }

  /** The answer body every interface shows: `{ code, message, details? }`. */
  toJSON(): { code: string; message: string; details?: unknown } {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** Whether `error` is a coded error, optionally of one of the given entries. */
export function isCoded(error: unknown, ...entries: ErrorEntry[]): error is CodedError {
  return error instanceof CodedError && (entries.length === 0 || entries.some((entry) => entry.code === error.code));
}

/**
 * The CLI's exit code for a status, by class: 0 success, 1 an internal error or anything uncoded,
 * 2 bad input, 3 not found (or gone), 4 a conflict with the current state, 5 a service unavailable,
 * 6 not authenticated or not allowed.
 */
export function exitCodeOf(status: ErrorStatus): number {
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return 2;
    case 404:
    case 410:
      return 3;
    case 409:
      return 4;
    case 503:
      return 5;
    case 401:
    case 403:
      return 6;
    case 500:
      return 1;
  }
}

/** What each exit code means, for the CLI's help and docs/errors.md. */
export const EXIT_CODES: readonly { code: number; meaning: string }[] = [
  { code: 0, meaning: 'success' },
  { code: 1, meaning: 'an internal error, an uncoded failure, or a check that found problems (e.g. `tracewell verify` on drift)' },
  { code: 2, meaning: 'bad input: a request, file, setting or message that must be fixed (400, 413, 415, 422)' },
  { code: 3, meaning: 'not found: the thing named does not exist or is gone (404, 410)' },
  { code: 4, meaning: 'conflict: the request clashes with the current state; it may pass once that changes (409)' },
  { code: 5, meaning: 'unavailable: a service (chain, storage, Temporal, the API) could not be reached; try again (503)' },
  { code: 6, meaning: 'not authenticated or not allowed (401, 403)' },
];
