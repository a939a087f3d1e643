/** A tiny admin API client (Bearer token, JSON in and out) for the programmatic API and tests. */
export interface AdminClient {
  token: string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

export function createAdminClient(baseUrl: string, token: string): AdminClient {
  return {
    token,
    async request(method, path, body) {
      const res = await fetch(`${baseUrl}/admin/api${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      try {
        return { status: res.status, json: JSON.parse(text) };
      } catch {
        return { status: res.status, json: text };
      }
    },
  };
}
