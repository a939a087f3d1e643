import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { parseForm } from '../crypto/form.ts';
import { MapiError } from '../gateway/mapi/errors.ts';
import { decideBind, type BindDecision } from '../services/sns.account.bind.ts';
import { findBindRequest, type BindRequest } from '../storage/repositories/bindings.ts';
import { authenticateMember, findMember } from '../storage/repositories/members.ts';
import { findPartner } from '../storage/repositories/partners.ts';
import { createSession, deleteSession, findSession, type Session } from '../storage/repositories/sessions.ts';
import { consentPage, errorPage, loginPage, messagePage, timeoutPage, type BindView } from './bind-views.ts';
import { PAGE_HEADERS } from './html.ts';
import { attemptLogin, THROTTLED_MESSAGE_ZH } from './login-throttle.ts';

/**
 * The person's side of sns.account.bind: log in, consent, decide. One DB session per
 * opened request, its cookie scoped to that request's pages (two requests in two tabs do
 * not mix), HttpOnly + SameSite=Lax, a CSRF token in every form. The whole flow must end
 * within GATEWAYDO_LOGIN_TTL, else SESSION_TIMEOUT; the session row outlives that
 * deadline by GRACE_MS so a late submit is told so rather than "no session".
 */
const SESSION_KIND = 'mapi_bind';
const COOKIE = 'gwd_bind';
const GRACE_MS = 3_600_000;
const REQUEST_ID = /^[0-9a-f]{32}$/;

/** A page answer other than the normal one, thrown and rendered by `pageRoute`. */
class PageRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`page refusal ${status}`);
  }
}

function pagePath(bindRequestId: string): string {
  return `/mapi/bind/${bindRequestId}`;
}

function setFlowCookie(ctx: GatewayContext, reply: FastifyReply, bindRequestId: string, sessionId: string): void {
  reply.setCookie(COOKIE, sessionId, {
    path: pagePath(bindRequestId),
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.baseUrl().startsWith('https://'),
  });
}

/** Called by the gateway for a verified request: a fresh flow session; returns where the browser goes. */
export async function beginBindFlow(ctx: GatewayContext, reply: FastifyReply, bindRequestId: string): Promise<string> {
  const data = { bind_request_id: bindRequestId, deadline: Date.now() + ctx.config.loginTtlMs };
  const session = await createSession(ctx.db, SESSION_KIND, ctx.config.loginTtlMs + GRACE_MS, null, data);
  setFlowCookie(ctx, reply, bindRequestId, session.id);
  return pagePath(bindRequestId);
}

function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).headers(PAGE_HEADERS).send(body);
}

function pageRoute(ctx: GatewayContext, fn: (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => Promise<unknown>) {
  return async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    try {
      return await fn(request, reply);
    } catch (err) {
      if (err instanceof PageRefusal) return sendPage(reply, err.status, err.body);
      if (err instanceof MapiError) return sendPage(reply, 200, errorPage(err.code, err.detail));
      ctx.logger.error({ err: { message: (err as Error).message } }, 'bind page failed');
      return sendPage(reply, 500, errorPage('SYSTEM_ERROR'));
    }
  };
}

interface Flow {
  request: BindRequest;
  session: Session;
  view: BindView;
  expired: boolean;
}

/** The request and this browser's session for it, or a refusal page. */
async function loadFlow(ctx: GatewayContext, request: FastifyRequest<{ Params: { id: string } }>): Promise<Flow> {
  const { id } = request.params;
  const bindRequest = REQUEST_ID.test(id) ? await findBindRequest(ctx.db, id) : undefined;
  if (!bindRequest) throw new PageRefusal(404, messagePage('请求不存在', '没有这个绑定请求，请回到商户网站重新发起。'));
  const session = await findSession(ctx.db, request.cookies[COOKIE], SESSION_KIND);
  if (!session || session.data.bind_request_id !== id) {
    throw new PageRefusal(200, errorPage('SESSION_TIMEOUT', '会话不存在或已失效，请回到商户网站重新发起绑定。'));
  }
  const partner = await findPartner(ctx.db, bindRequest.partner);
  const p = bindRequest.params;
  const view: BindView = {
    action: pagePath(id),
    csrf: session.csrf,
    partnerName: partner?.name ?? bindRequest.partner,
    snsUserId: p.sns_user_id,
    snsUserName: p.sns_user_name,
    type: p.type,
  };
  return { request: bindRequest, session, view, expired: Date.now() > Number(session.data.deadline) };
}

function csrfMatches(expected: string, given: string | undefined): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? '');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The posted form (UTF-8, as our pages declare), after the CSRF check. */
function postedForm(request: FastifyRequest, flow: Flow): Map<string, string> {
  let form: Map<string, string>;
  try {
    form = new Map(Buffer.isBuffer(request.body) ? parseForm(request.body.toString('latin1'), 'utf-8') : []);
  } catch {
    throw new PageRefusal(400, messagePage('表单无效', '提交的表单编码不正确。'));
  }
  if (!csrfMatches(flow.session.csrf, form.get('_csrf'))) {
    throw new PageRefusal(403, messagePage('页面已失效', '表单校验失败（CSRF），请刷新页面后重试。'));
  }
  return form;
}

async function finish(ctx: GatewayContext, reply: FastifyReply, flow: Flow, decision: BindDecision) {
  const outcome = await decideBind(ctx, flow.request.id, flow.session.subject, decision);
  return reply.header('cache-control', 'no-store').redirect(outcome.location, 302);
}

export function registerBindPages(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Params: { id: string } }>(
    '/mapi/bind/:id',
    pageRoute(ctx, async (request, reply) => {
      const flow = await loadFlow(ctx, request);
      if (flow.request.decided_at !== null) return sendPage(reply, 200, errorPage('BIND_ERROR_REPEAT', '该绑定请求已经处理过。'));
      if (flow.expired) return sendPage(reply, 200, timeoutPage(flow.view));
      const member = flow.session.subject ? await findMember(ctx.db, ctx.vault, flow.session.subject) : undefined;
      return sendPage(reply, 200, member ? consentPage(flow.view, member.login_id) : loginPage(flow.view));
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/mapi/bind/:id/login',
    pageRoute(ctx, async (request, reply) => {
      const flow = await loadFlow(ctx, request);
      const form = postedForm(request, flow);
      if (flow.expired) return finish(ctx, reply, flow, 'timeout');
      const loginId = form.get('login_id') ?? '';
      const password = form.get('password') ?? '';
      const attempt = loginId && password ? await attemptLogin(ctx, 'mapi', loginId, () => authenticateMember(ctx.db, ctx.vault, loginId, password)) : undefined;
      if (attempt?.throttled) return sendPage(reply, 429, loginPage(flow.view, { loginId, message: THROTTLED_MESSAGE_ZH }));
      const member = attempt?.subject;
      if (!member) return sendPage(reply, 200, loginPage(flow.view, { loginId, message: '支付宝账户名或登录密码不正确。' }));
      // A new session id once logged in (no fixation); same deadline.
      const fresh = await createSession(ctx.db, SESSION_KIND, flow.session.expires_at - Date.now(), member.user_id, flow.session.data);
      await deleteSession(ctx.db, flow.session.id);
      setFlowCookie(ctx, reply, flow.request.id, fresh.id);
      return reply.redirect(pagePath(flow.request.id), 303);
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/mapi/bind/:id/decision',
    pageRoute(ctx, async (request, reply) => {
      const flow = await loadFlow(ctx, request);
      const form = postedForm(request, flow);
      if (flow.expired) return finish(ctx, reply, flow, 'timeout');
      if (!flow.session.subject) return reply.redirect(pagePath(flow.request.id), 303);
      const decision = form.get('decision');
      if (decision !== 'agree' && decision !== 'refuse') throw new PageRefusal(400, messagePage('表单无效', '请选择同意或拒绝。'));
      return finish(ctx, reply, flow, decision);
    }),
  );
}
