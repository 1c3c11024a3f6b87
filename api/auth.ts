// Authentication and permissions. Every request (except the health check) presents an API key, as
// `Authorization: Bearer <key>` or `X-Api-Key`, and acts as the one participant the key belongs to.
import type { Context, MiddlewareHandler } from 'hono';
import { authenticateApiKey } from '../db/api-keys.js';
import type { Db } from '../db/client.js';
import type { Participant } from '../db/participants.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The participant the request's API key acts as. */
    participant: Participant;
    /** The id of the request's API key (streams close when it is revoked). */
    apiKeyId: number;
  }
}

/** Roles that grant API permissions, beside the supply-chain roles that steps address. */
export const API_ROLES = {
  /** Manages participants and their keys; may do everything an operator or engineer may. */
  admin: 'admin',
  /** Sees failures and decides on parked parts (retry, skip, abort, reset). */
  operator: 'operator',
  /** Publishes lifecycle definitions. */
  processEngineer: 'process-engineer',
} as const;

export type ApiRole = (typeof API_ROLES)[keyof typeof API_ROLES];

function presentedKey(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated('Authorization: expected "Bearer <api key>"');
    return match[1];
  }
  return c.req.header('x-api-key');
}

function unauthenticated(message: string): CodedError {
  return new CodedError(Errors.unauthenticated, { reason: message });
}

export function authenticate(db: Db): MiddlewareHandler {
  return async (c, next) => {
    const key = presentedKey(c);
    if (!key) throw unauthenticated('an API key is required: send "Authorization: Bearer <api key>"');
    const found = await authenticateApiKey(db, key);
    if (!found) throw unauthenticated('the API key is not valid (unknown or revoked)');
    c.set('participant', found.participant);
    c.set('apiKeyId', found.keyId);
    await next();
  };
}

export function actingParticipant(c: Context): Participant {
  return c.get('participant');
}

/** Route middleware: 403 before the request is validated unless the participant holds one of `roles`. */
export function roleRequired(...roles: ApiRole[]): MiddlewareHandler {
  return async (c, next) => {
    requireRole(c, ...roles);
    await next();
  };
}

/** 403 unless the acting participant holds one of `roles` (admin always may). */
export function requireRole(c: Context, ...roles: ApiRole[]): Participant {
  const participant = actingParticipant(c);
  if (participant.roles.includes(API_ROLES.admin) || roles.some((role) => participant.roles.includes(role))) return participant;
  throw new CodedError(Errors.forbidden, {
    reason: `participant "${participant.id}" may not do this: it needs the role ${roles.map((r) => `"${r}"`).join(' or ')}`,
  });
}
