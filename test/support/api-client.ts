// A small HTTP client for end-to-end tests: JSON in and out, authenticated as one participant (the
// admin by default), and polling a part until it gets somewhere.
import { TEST_ADMIN_API_KEY, uniqueId } from './env.js';

export interface ApiResponse {
  status: number;
  body: any;
}

export interface ApiClient {
  call(
    method: string,
    path: string,
    body?: unknown,
    options?: { contentType?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  untilPart(id: string, done: (part: any) => boolean, timeoutMs?: number): Promise<any>;
  /** The same API, acting as the participant of `apiKey`. */
  as(apiKey: string): ApiClient;
  /** Creates a participant (as the admin) and returns it with a client acting as it. */
  newParticipant(roles: string[], prefix?: string): Promise<{ id: string; address: string; api: ApiClient }>;
}

export function apiClient(baseUrl: () => string, apiKey = TEST_ADMIN_API_KEY): ApiClient {
  const call: ApiClient['call'] = async (method, path, body, options = {}) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
        ...options.headers,
      },
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const client: ApiClient = {
    call,
    async untilPart(id, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { status, body } = await call('GET', `/parts/${encodeURIComponent(id)}`);
        if (status === 200 && done(body)) return body;
        if (Date.now() > deadline) throw new Error(`part ${id} did not get there: ${JSON.stringify(body)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    as: (key) => apiClient(baseUrl, key),
    async newParticipant(roles, prefix = 'p') {
      const id = uniqueId(prefix).replace(/[^a-z0-9-]/g, '-');
      const created = await apiClient(baseUrl).call('POST', '/participants', { id, name: `Test ${id}`, roles });
      if (created.status !== 201) throw new Error(`creating participant ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      return { id, address: created.body.participant.address, api: apiClient(baseUrl, created.body.apiKey.key) };
    },
  };
  return client;
}

/** A part waiting at `step` for its event. */
export const waitingFor = (step: string) => (part: any) => part.currentStep === step && part.workflow?.state === 'awaiting';
