import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { parseForm } from '../crypto/form.ts';
import { tokenMatches } from '../admin/auth.ts';
import { listApps, findApp, type App } from '../storage/repositories/apps.ts';
import { authenticateOperator, findOperator, type Operator } from '../storage/repositories/koubei.ts';
import { issueAuthCode } from '../storage/repositories/auth-codes.ts';
import { createSession, deleteSession, findSession, type Session } from '../storage/repositories/sessions.ts';
import { koubeiMemberDataOauthQuery } from '../services/koubei.member.data.oauth.query.ts';
import { html, page, PAGE_HEADERS } from './html.ts';
import { attemptLogin, THROTTLED_MESSAGE_ZH } from './login-throttle.ts';

/**
 * The Koubei operator portal: an operator (服务商, 商户, their staff, 小二) signs in, picks an
 * ISV app, and is sent to the app's ISV URL with a fresh one-time `code` (and `app_id`),
 * which the ISV trades through koubei.member.data.oauth.query. GET /sandbox/isv is a
 * built-in ISV landing page, so the flow works before an ISV has a server of its own.
 */
const COOKIE = 'gwd_koubei';
const SESSION_KIND = 'koubei';
const SESSION_TTL_MS = 30 * 60_000;
const METHOD = koubeiMemberDataOauthQuery.method;

function setSessionCookie(ctx: GatewayContext, reply: FastifyReply, session: Session): void {
  reply.setCookie(COOKIE, session.id, {
    path: '/koubei',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.baseUrl().startsWith('https:'),
    maxAge: SESSION_TTL_MS / 1000,
  });
}

function sendPage(reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(page(title, body));
}

function loginForm(session: Session, error?: string) {
  return html`<div class="card"><h2>口碑商家中心 · 操作员登录</h2>
<p>以服务商、商户或其员工身份登录，选择要进入的 ISV 应用。</p>
${error ? html`<p class="error">${error}</p>` : ''}
<form method="post" action="/koubei/portal">
<input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="action" value="login">
<label for="login_id">登录账号</label><input id="login_id" name="login_id" autocomplete="username" required>
<label for="password">登录密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录</button></form></div>`;
}

function appChooser(session: Session, operator: Operator, apps: App[]) {
  return html`<div class="card"><h2>选择 ISV 应用</h2>
<p>当前操作员：${operator.name}（<span class="code">${operator.operator_type}</span>，${operator.operator_id}）</p>
${apps.length === 0 ? html`<p>没有开通 ${METHOD} 的应用。</p>` : ''}
<form method="post" action="/koubei/portal">
<input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="action" value="choose">
<table><tr><th>应用</th><th>app_id</th><th>跳转地址</th><th></th></tr>
${apps.map((a) => html`<tr><td>${a.name}</td><td class="code">${a.app_id}</td><td>${a.isv_url}</td>
<td><button type="submit" name="app_id" value="${a.app_id}">进入应用</button></td></tr>`)}
</table></form>
<form method="post" action="/koubei/portal"><input type="hidden" name="_csrf" value="${session.csrf}">
<button class="secondary" type="submit" name="action" value="logout">退出登录</button></form></div>`;
}

async function portalApps(ctx: GatewayContext): Promise<App[]> {
  return (await listApps(ctx.db)).filter((a) => a.methods.includes(METHOD));
}

/** The app's ISV URL (relative ones against our base URL) with app_id and code appended. */
function isvRedirect(ctx: GatewayContext, app: App, code: string): string | undefined {
  let url: URL;
  try {
    url = new URL(app.isv_url, ctx.baseUrl() + '/');
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.searchParams.set('app_id', app.app_id);
  url.searchParams.set('code', code);
  return url.toString();
}

function formFields(body: unknown): Record<string, string> | undefined {
  if (!Buffer.isBuffer(body)) return {};
  try {
    return Object.fromEntries(parseForm(body.toString('latin1'), 'utf-8'));
  } catch {
    return undefined;
  }
}

export function registerKoubeiPortal(app: FastifyInstance, ctx: GatewayContext): void {
  const current = (request: FastifyRequest) => findSession(ctx.db, request.cookies[COOKIE], SESSION_KIND);

  app.get('/koubei/portal', async (request, reply) => {
    let session = await current(request);
    if (!session) {
      session = await createSession(ctx.db, SESSION_KIND, SESSION_TTL_MS);
      setSessionCookie(ctx, reply, session);
    }
    const operator = session.subject ? await findOperator(ctx.db, session.subject) : undefined;
    if (!operator) return sendPage(reply, 200, '口碑商家中心', loginForm(session));
    return sendPage(reply, 200, '口碑商家中心', appChooser(session, operator, await portalApps(ctx)));
  });

  app.post('/koubei/portal', async (request, reply) => {
    const session = await current(request);
    const form = formFields(request.body);
    if (!form) return sendPage(reply, 400, '口碑商家中心', html`<div class="card"><p class="error">表单编码无效。</p><a href="/koubei/portal">返回</a></div>`);
    if (!session || !tokenMatches(form._csrf, session.csrf)) {
      return sendPage(reply, 403, '口碑商家中心', html`<div class="card"><p class="error">页面已过期，请重新打开。</p><a href="/koubei/portal">重新打开</a></div>`);
    }

    if (form.action === 'login') {
      const attempt = await attemptLogin(ctx, 'koubei', form.login_id ?? '', () => authenticateOperator(ctx.db, form.login_id ?? '', form.password ?? ''));
      if (attempt.throttled) return sendPage(reply, 429, '口碑商家中心', loginForm(session, THROTTLED_MESSAGE_ZH));
      const operator = attempt.subject;
      if (!operator) return sendPage(reply, 401, '口碑商家中心', loginForm(session, '账号或密码错误'));
      // A new session at sign-in, so an id planted before login is worth nothing after it.
      await deleteSession(ctx.db, session.id);
      setSessionCookie(ctx, reply, await createSession(ctx.db, SESSION_KIND, SESSION_TTL_MS, operator.operator_id));
      return reply.redirect('/koubei/portal', 303);
    }

    if (form.action === 'logout') {
      await deleteSession(ctx.db, session.id);
      reply.clearCookie(COOKIE, { path: '/koubei' });
      return reply.redirect('/koubei/portal', 303);
    }

    const operator = session.subject ? await findOperator(ctx.db, session.subject) : undefined;
    if (form.action !== 'choose' || !operator) return reply.redirect('/koubei/portal', 303);
    const chosen = form.app_id ? await findApp(ctx.db, form.app_id) : undefined;
    if (!chosen || !chosen.methods.includes(METHOD)) {
      return sendPage(reply, 400, '口碑商家中心', html`<div class="card"><p class="error">应用不存在或未开通 ${METHOD}。</p><a href="/koubei/portal">返回</a></div>`);
    }
    const code = await issueAuthCode(ctx.db, { app_id: chosen.app_id, operator_id: operator.operator_id, ttl_seconds: chosen.auth_code_ttl_seconds });
    const target = isvRedirect(ctx, chosen, code.code);
    if (!target) {
      return sendPage(reply, 400, '口碑商家中心', html`<div class="card"><p class="error">应用的跳转地址无效：${chosen.isv_url}</p><a href="/koubei/portal">返回</a></div>`);
    }
    return reply.redirect(target, 302);
  });

  app.get('/sandbox/isv', async (request, reply) => {
    const query = Object.entries((request.query ?? {}) as Record<string, string | string[]>);
    return sendPage(reply, 200, '沙箱 ISV 落地页', html`<div class="card"><h2>ISV 收到的参数</h2>
<p>这是内置的 ISV 落地页：口碑操作员选择应用后被带到这里。用 <span class="code">code</span> 调用 <span class="code">${METHOD}</span> 换取操作员信息（一次有效）。</p>
${query.length === 0 ? html`<p>没有收到参数。</p>` : html`<table><tr><th>参数</th><th>值</th></tr>
${query.map(([k, v]) => html`<tr><td class="code">${k}</td><td class="code" id="param-${k}">${Array.isArray(v) ? v.join(', ') : v}</td></tr>`)}</table>`}
</div>`);
  });
}
