// A small HTTP client for end-to-end tests: JSON in and out, and polling a part until it gets somewhere.
export interface ApiResponse {
  status: number;
  body: any;
}

export interface ApiClient {
  call(method: string, path: string, body?: unknown, options?: { contentType?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  untilPart(id: string, done: (part: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function apiClient(baseUrl: () => string): ApiClient {
  const call: ApiClient['call'] = async (method, path, body, options = {}) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }), ...options.headers },
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  return {
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
  };
}

/** A part waiting at `step` for its event. */
export const waitingFor = (step: string) => (part: any) => part.currentStep === step && part.workflow?.state === 'awaiting';
