// Duration settings (temporal.yaml, API query parameters) as zod schemas over the pure parser.
import { z } from 'zod';
import { parseDuration } from '../../workflows/duration.js';

/** A zod schema for a duration setting; the parsed value is in milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a duration: "${value}" (use e.g. 500ms, 30s, 5m)` });
    return z.NEVER;
  }
  return ms;
});
