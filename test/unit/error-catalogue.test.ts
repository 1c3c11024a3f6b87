// The error catalogue: one well-formed entry per code, templates whose parameters a CodedError
// fills, exit codes by status class, and docs/errors.md as the catalogue renders it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_ENTRIES, entryFor, Errors } from '../../domain/errors/catalogue.js';
import {
  CodedError,
  ERROR_STATUSES,
  EXIT_CODES,
  exitCodeOf,
  formatMessage,
  isCoded,
  templateParams,
} from '../../domain/errors/coded-error.js';
import { errorCatalogueMarkdown } from '../../domain/errors/markdown.js';
import { StepRejection } from '../../domain/errors/step-rejections.js';
import { PartFailure } from '../../workflows/failures.js';

describe('error catalogue', () => {
  it('lists each code once, in snake_case, under its own key', () => {
    const codes = ERROR_ENTRIES.map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [key, entry] of Object.entries(Errors)) {
      expect(entry.code).toBe(key);
      expect(entry.code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    }
  });

  it('gives every code a status the interfaces know, and every status an exit code', () => {
    for (const entry of ERROR_ENTRIES) expect(ERROR_STATUSES, entry.code).toContain(entry.status);
    const documented = EXIT_CODES.map((exit) => exit.code);
    for (const status of ERROR_STATUSES) expect(documented).toContain(exitCodeOf(status));
    expect([400, 404, 409, 503, 403, 500].map((status) => exitCodeOf(status as never))).toEqual([2, 3, 4, 5, 6, 1]);
  });

  it('has templates whose parameters are named and whose text is not empty', () => {
    for (const entry of ERROR_ENTRIES) {
      expect(entry.message.trim(), entry.code).not.toBe('');
      // A brace outside a `{name}` parameter would be read as one.
      expect(entry.message.replace(/\{[a-zA-Z][a-zA-Z0-9]*\}/g, ''), entry.code).not.toMatch(/[{}]/);
    }
  });

  it('fills every parameter of every template', () => {
    for (const entry of ERROR_ENTRIES) {
      const params = Object.fromEntries(templateParams(entry.message).map((name) => [name, `<${name}>`]));
      const error = new CodedError(entry, params as never);
      expect(error.message, entry.code).not.toMatch(/\{[a-zA-Z][a-zA-Z0-9]*\}/);
      for (const name of templateParams(entry.message)) expect(error.message).toContain(`<${name}>`);
      expect(error.toJSON()).toEqual({ code: entry.code, message: error.message });
      expect(error.status).toBe(entry.status);
    }
  });

  it('formats the answer every interface shows', () => {
    const error = new CodedError(Errors.part_not_found, { id: 'urn:x:1' });
    expect(error.message).toBe('part "urn:x:1" not found');
    expect(
      new CodedError(Errors.invalid_params, { lifecycle: 'chip', version: 2, problems: 'params.batch: required' }, [
        { field: 'params.batch', message: 'required' },
      ]).toJSON(),
    ).toEqual({
      code: 'invalid_params',
      message: 'params for chip v2: params.batch: required',
      details: [{ field: 'params.batch', message: 'required' }],
    });
    expect(formatMessage('a {x} and {y}', { x: 1 })).toBe('a 1 and {y}');
    expect(isCoded(error, Errors.part_not_found)).toBe(true);
    expect(isCoded(error, Errors.part_exists)).toBe(false);
    expect(isCoded(new Error('part_not_found'))).toBe(false);
    expect(entryFor('part_not_found')).toBe(Errors.part_not_found);
    expect(entryFor('toString')).toBeUndefined();
  });

  it('keeps one status per idea: a missing thing in the path is 404, one named in the body 422', () => {
    for (const entry of ERROR_ENTRIES.filter((e) => e.code.endsWith('_not_found'))) expect(entry.status, entry.code).toBe(404);
    for (const entry of ERROR_ENTRIES.filter(
      (e) => e.code.startsWith('unknown_') && e.code !== 'unknown_event' && e.code !== 'unknown_message_type',
    ))
      expect(entry.status, entry.code).toBe(422);
  });

  it('keeps the workflow failure types and step rejections apart from the codes, and unchanged', () => {
    // Recorded in Temporal histories and SQL: their values must not change.
    expect(Object.values(PartFailure).every((type) => /^[A-Z][A-Za-z]+$/.test(type))).toBe(true);
    expect(StepRejection).toMatchObject({
      RoleMismatch: 'RoleMismatch',
      UnknownParticipant: 'UnknownParticipantError',
      ChainUnavailable: 'ChainUnavailableError',
    });
    for (const type of [...Object.values(PartFailure), ...Object.values(StepRejection)]) expect(entryFor(type)).toBeUndefined();
  });

  it('is what docs/errors.md says (run `npm run docs:errors` after changing it)', () => {
    expect(readFileSync('docs/errors.md', 'utf8')).toBe(errorCatalogueMarkdown());
  });
});
