// What a refused request must not change: a fingerprint of the state only API requests write
// (participants and their keys, parts, lifecycles and their defaults, subscriptions, documents,
// operator actions, gateway contracts). Background work (the mirror, deliveries, workflows) writes
// other tables, so two fingerprints around a request differ only if the request wrote.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';

const FINGERPRINT = sql`
  select
    (select md5(coalesce(string_agg(id || '|' || name || '|' || array_to_string(roles, ','), ';' order by id), '')) from participants) as participants,
    (select count(*) || '/' || count(revoked_at) || '/' || md5(coalesce(string_agg(id::text || coalesce(label, ''), ';' order by id), '')) from api_keys) as api_keys,
    (select count(*) from parts) as parts,
    (select md5(coalesce(string_agg(t::text, ';' order by t::text), '')) from lifecycle_definitions t) as lifecycles,
    (select md5(coalesce(string_agg(t::text, ';' order by t::text), '')) from lifecycle_defaults t) as defaults,
    (select count(*) from event_subscriptions) as subscriptions,
    (select count(*) from documents) as documents,
    (select count(*) from operator_actions) as operator_actions,
    (select count(*) from gateway_contracts) as gateway_contracts
`;

export type Fingerprint = Record<string, string>;

export async function stateFingerprint(db: Db): Promise<Fingerprint> {
  const result = (await db.execute(FINGERPRINT)) as unknown as { rows: Array<Record<string, unknown>> };
  return Object.fromEntries(Object.entries(result.rows[0]!).map(([key, value]) => [key, String(value)]));
}
