// The intake's message formats: what is accepted, and the dead-letter reason and description of
// everything that is not.
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../domain/errors/coded-error.js';
import { parseIntakeMessage } from '../../domain/intake/messages.js';

function refusal(body: unknown): { reason: string; message: string } {
  try {
    parseIntakeMessage(body);
  } catch (error) {
    if (error instanceof CodedError) return { reason: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the message to be refused');
}

describe('intake messages', () => {
  it('accepts each type as an object, a JSON string or bytes', () => {
    const start = {
      type: 'start-part',
      version: 1,
      participant: 'acme-foundry',
      part: { id: 'urn:x:1', lifecycle: 'part-basic', params: { batch: 'B' } },
    };
    expect(parseIntakeMessage(start)).toEqual(start);
    expect(parseIntakeMessage(JSON.stringify(start))).toEqual(start);
    expect(parseIntakeMessage(Buffer.from(JSON.stringify(start)))).toEqual(start);
    expect(parseIntakeMessage({ type: 'deliver-event', version: 1, participant: 'a', part: 'urn:x:1', event: 'sold' })).toMatchObject({
      payload: {},
    });
    expect(
      parseIntakeMessage({
        type: 'attach-document',
        version: 1,
        participant: 'tuv-assurance',
        part: 'urn:x:1',
        document: '5b0c9a3e-1f2d-4c5b-8a9e-0123456789ab',
        validFor: '365d',
      }),
    ).toMatchObject({ validFor: '365d' });
  });

  it('names what is wrong with a message it refuses', () => {
    expect(refusal('{not json')).toMatchObject({ reason: 'message_not_json' });
    expect(refusal([1, 2])).toMatchObject({
      reason: 'invalid_message',
      message: 'the body must be a JSON object with "type" and "version"',
    });
    expect(refusal({ type: 'ship-part', version: 1 })).toEqual({
      reason: 'unknown_message_type',
      message: 'type: "ship-part" is not a message type; expected one of start-part, deliver-event, attach-document',
    });
    expect(refusal({ type: 'toString', version: 1 })).toMatchObject({ reason: 'unknown_message_type' });
    expect(refusal({ type: 'start-part', version: 2 })).toMatchObject({
      reason: 'unsupported_message_version',
      message: 'version: 2 is not supported for start-part; expected 1',
    });
    expect(refusal({ type: 'start-part', version: 1, participant: 'acme-foundry', part: { lifecycle: 'part-basic' } })).toEqual({
      reason: 'invalid_message',
      message: 'part.id: Required',
    });
    expect(refusal({ type: 'deliver-event', version: 1, participant: 'a', part: 'bad id!', event: 'sold', extra: 1 }).message).toBe(
      "part: a part id: letters, digits and : . _ - (at most 200); (body): Unrecognized key(s) in object: 'extra'",
    );
    expect(
      refusal({ type: 'attach-document', version: 1, participant: 'a', part: 'urn:x:1', document: 'x', validFor: 'soon' }).message,
    ).toBe('document: a document id from POST /documents; validFor: a duration such as 30d or 12h');
  });
});
