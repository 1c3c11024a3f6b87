// One webhook POST over node:http(s), connected to an address the target policy checked. The host is
// resolved here, once, and the connection's `lookup` hands back exactly that address: the socket
// cannot end up anywhere the policy did not see (fetch resolves again on its own, which is the
// DNS-rebinding gap). The URL's host name still goes out as the Host header and the TLS server name.
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress, WebhookTargetPolicy } from './webhook-targets.js';

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the request (a timeout until the response headers, or a stop). */
  signal: AbortSignal;
}

/** A `lookup` that answers every query with the checked address, in either callback form. */
function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
}

/** POSTs the body and resolves with the response status once the headers arrive (the body is not read). */
export async function postWebhook(policy: WebhookTargetPolicy, post: WebhookPost): Promise<number> {
  const url = new URL(post.url);
  const target = await policy.addressFor(url.hostname);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
    lookup: pinnedLookup(target),
    // A connection of its own: a pooled socket would skip the lookup above.
    agent: false,
    signal: post.signal,
  };
  return new Promise<number>((resolve, reject) => {
    const request = send(url, options, (response: IncomingMessage) => {
      // The answer is the status; the body could be large or slow, so it is not read.
      response.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(post.body);
  });
}
