/**
 * A browser without a browser, for the server-rendered pages: a cookie jar (name, path),
 * forms posted by hand, redirects not followed, every Set-Cookie line kept for inspection.
 */
export interface PageAnswer {
  status: number;
  location: string | null;
  headers: Headers;
  text: string;
  /** The raw Set-Cookie lines of this answer. */
  setCookies: string[];
}

export class FormBrowser {
  private readonly jar = new Map<string, { value: string; path: string }>();

  constructor(readonly base: string) {}

  private cookieHeader(path: string): string {
    return [...this.jar]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  /** `path` on this browser's base URL, or a full URL (another server of the same site: the jar goes along). */
  async request(path: string, form?: Record<string, string>): Promise<PageAnswer> {
    const url = new URL(path, this.base);
    const cookie = this.cookieHeader(url.pathname);
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(cookie && { cookie }), ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
      body: form && new URLSearchParams(form).toString(),
    });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const cookiePath = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = value === '' || attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired) this.jar.delete(name);
      else this.jar.set(name, { value, path: cookiePath });
    }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text(), setCookies };
  }

  get(path: string): Promise<PageAnswer> {
    return this.request(path);
  }

  post(path: string, form: Record<string, string>): Promise<PageAnswer> {
    return this.request(path, form);
  }

  /** Opens a signed gateway URL the way a browser follows it: the redirect's cookie lands in the jar. */
  async follow(url: string): Promise<PageAnswer> {
    const u = new URL(url);
    return this.get(`${u.pathname}${u.search}`);
  }
}

/** The form's CSRF token (hidden `_csrf`). */
export function csrfIn(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no _csrf field in: ${html.slice(0, 200)}`);
  return m[1];
}
