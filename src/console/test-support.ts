import type { TestGateway } from '../../test/support/gateway.ts';
import { signedUrl, type PartnerKeys } from '../../test/support/mapi-client.ts';

/**
 * Shared by the console tests (not itself a test file): a signed-in console client over
 * plain HTTP, and the sign-in steps it takes, as a browser would.
 */
export interface ConsoleResponse {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1];
}

function cookiePairs(res: Response): string[] {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]);
}

async function send(url: string, init: RequestInit): Promise<ConsoleResponse> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
}

export class ConsoleClient {
  constructor(
    readonly baseUrl: string,
    public cookie: string,
    public csrf: string,
  ) {}

  get(path: string): Promise<ConsoleResponse> {
    return send(this.baseUrl + path, { headers: { cookie: this.cookie } });
  }

  /** A form post; `_csrf` is the session's unless the fields give their own (or omit it with null). */
  async post(path: string, fields: Array<[string, string]> | Record<string, string>, csrf: string | null = this.csrf): Promise<ConsoleResponse> {
    const body = new URLSearchParams(Array.isArray(fields) ? fields : Object.entries(fields));
    if (csrf !== null) body.set('_csrf', csrf);
    const res = await send(this.baseUrl + path, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    const renewed = res.headers.getSetCookie().find((c) => /^gatewaydo_console=[^;]/.test(c));
    if (renewed) {
      // A new session (after a reset) comes with a new CSRF token.
      this.cookie = renewed.split(';')[0];
      this.csrf = csrfOf((await this.get('/console')).text);
    }
    return res;
  }
}

/** Opens the sign-in page and posts the token, as a browser does; returns the response too. */
export async function postSignIn(baseUrl: string, token: string, next = '/console'): Promise<{ res: ConsoleResponse; sessionCookie?: string; setCookie: string[] }> {
  const form = await fetch(`${baseUrl}/console/login`);
  const loginCookie = cookiePairs(form).join('; ');
  const csrf = csrfOf(await form.text());
  const raw = await fetch(`${baseUrl}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token, next }).toString(),
  });
  const setCookie = raw.headers.getSetCookie();
  const sessionCookie = setCookie.find((c) => c.startsWith('gatewaydo_console='))?.split(';')[0];
  return { res: { status: raw.status, location: raw.headers.get('location'), text: await raw.text(), headers: raw.headers }, sessionCookie, setCookie };
}

export async function signInConsole(baseUrl: string, token: string): Promise<ConsoleClient> {
  const { res, sessionCookie } = await postSignIn(baseUrl, token);
  if (res.status !== 303 || !sessionCookie) throw new Error(`sign-in failed: ${res.status}`);
  const overview = await send(`${baseUrl}/console`, { headers: { cookie: sessionCookie } });
  return new ConsoleClient(baseUrl, sessionCookie, csrfOf(overview.text));
}

/**
 * A notification through the real MAPI path, headless: a signed sns.account.bind URL whose
 * notify_url is the given ISV server, completed by POST /admin/api/mapi/complete.
 */
export async function completeBind(gw: TestGateway, isvUrl: string, snsUserId: string): Promise<{ status: number; json: any }> {
  const partner = gw.sandbox.partner as PartnerKeys;
  const url = signedUrl(
    gw.gatewayUrl,
    { service: 'sns.account.bind', partner: partner.partner, _input_charset: 'utf-8', return_url: `${isvUrl}/return`, notify_url: `${isvUrl}/notify`, sns_user_id: snsUserId, sns_user_name: 'Console test', type: 'common' },
    'MD5',
    partner,
    'utf-8',
  );
  return gw.admin('POST', '/mapi/complete', { url, login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
}

/** Waits (polling the admin API) until some notification satisfies `done`, and returns it. */
export async function waitForNotification(gw: TestGateway, done: (n: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await gw.admin('GET', '/notifications')).json.find(done);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('notification not in the expected state in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
