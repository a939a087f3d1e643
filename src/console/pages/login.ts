import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { adminToken } from '../../admin/routes.ts';
import { tokenMatches } from '../../admin/auth.ts';
import { hex } from '../../domain/ids.ts';
import { html } from '../../pages/html.ts';
import { attemptLogin, THROTTLED_MESSAGE_EN } from '../../pages/login-throttle.ts';
import { deleteSession, findSession } from '../../storage/repositories/sessions.ts';
import { BadForm, ConsoleForm } from '../form.ts';
import { consolePage, sendPage } from '../layout.ts';
import { cookieOptions, safeNext, sessionOf, signIn, SESSION_COOKIE, SESSION_KIND } from '../session.ts';

/**
 * Sign-in with the admin token. Before a session exists, the form is CSRF-protected by a
 * double-submit cookie (a random value in a Strict cookie and in the form), so no session
 * row is written for someone who merely opens the page.
 */
const LOGIN_COOKIE = 'gatewaydo_console_login';

function loginForm(request: FastifyRequest, reply: FastifyReply, status: number, next: string, error?: string) {
  const csrf = request.cookies[LOGIN_COOKIE] ?? hex(16);
  reply.setCookie(LOGIN_COOKIE, csrf, cookieOptions(request, '/console/login', 3600));
  const body = html`<div class="card"><h2>Sign in to the developer console</h2>
<form method="post" action="/console/login">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
<input type="text" name="username" value="admin" autocomplete="username" hidden>
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p class="muted">The admin token is printed at start and stored in sandbox.json (<span class="code">admin_token</span>).</p>
<button>Sign in</button></form></div>`;
  return sendPage(reply, status, consolePage('Sign in', null, body, { error }));
}

export function registerLogin(c: FastifyInstance, ctx: GatewayContext): void {
  c.get<{ Querystring: { next?: string } }>('/console/login', { config: { public: true } }, async (request, reply) => {
    if (await findSession(ctx.db, request.cookies[SESSION_COOKIE], SESSION_KIND)) return reply.redirect(safeNext(request.query.next), 303);
    return loginForm(request, reply, 200, safeNext(request.query.next));
  });

  c.post('/console/login', { config: { public: true } }, async (request, reply) => {
    let form: ConsoleForm;
    try {
      form = ConsoleForm.parse(request.body);
    } catch (err) {
      if (!(err instanceof BadForm)) throw err;
      return loginForm(request, reply, 400, '/console', 'The form could not be read.');
    }
    const next = safeNext(form.raw('next'));
    const expected = request.cookies[LOGIN_COOKIE];
    if (!expected || !tokenMatches(form.raw('_csrf'), expected)) {
      return loginForm(request, reply, 403, next, 'The sign-in form expired. Please try again.');
    }
    // The console has one credential, so attempts are counted per client address.
    const token = await adminToken(ctx);
    const attempt = await attemptLogin(ctx, 'console', request.ip, async () => (tokenMatches(form.raw('token'), token) ? true : undefined));
    if (attempt.throttled) return loginForm(request, reply, 429, next, THROTTLED_MESSAGE_EN);
    if (!attempt.subject) return loginForm(request, reply, 401, next, 'That is not the admin token.');
    await signIn(ctx, request, reply);
    reply.clearCookie(LOGIN_COOKIE, cookieOptions(request, '/console/login'));
    return reply.redirect(next, 303);
  });

  c.post('/console/logout', async (request, reply) => {
    await deleteSession(ctx.db, sessionOf(request).id);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request, '/console'));
    return reply.redirect('/console/login', 303);
  });
}
