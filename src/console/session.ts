import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { tokenMatches } from '../admin/auth.ts';
import { createSession, findSession, type Session } from '../storage/repositories/sessions.ts';
import { BadForm, ConsoleForm } from './form.ts';
import { messagePage, sendPage } from './layout.ts';

/**
 * Console sign-in state: a DB session (kind 'console') named by an HttpOnly, SameSite=Strict
 * cookie, so any process sharing the database serves the console. Every POST must carry
 * the session's CSRF token in `_csrf`.
 */
export const SESSION_COOKIE = 'gatewaydo_console';
export const SESSION_KIND = 'console';
const SESSION_TTL_MS = 12 * 3_600_000;

const sessions = new WeakMap<FastifyRequest, Session>();
const forms = new WeakMap<FastifyRequest, ConsoleForm>();

/** The signed-in session of a guarded console request. */
export function sessionOf(request: FastifyRequest): Session {
  const s = sessions.get(request);
  if (!s) throw new Error('console route reached without a session');
  return s;
}

/** The parsed form of a guarded console POST (already CSRF-checked). */
export function formOf(request: FastifyRequest): ConsoleForm {
  return forms.get(request) ?? ConsoleForm.parse(undefined);
}

/** Only console paths are followed after sign-in: never an open redirect elsewhere. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(?:[/?]|$)/.test(next) && !next.includes('//') && !next.includes('\\') ? next : '/console';
}

export function cookieOptions(request: FastifyRequest, path: string, maxAgeSeconds?: number) {
  return { path, httpOnly: true, sameSite: 'strict' as const, secure: request.protocol === 'https', maxAge: maxAgeSeconds };
}

export async function signIn(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<Session> {
  const session = await createSession(ctx.db, SESSION_KIND, SESSION_TTL_MS, 'admin');
  reply.setCookie(SESSION_COOKIE, session.id, cookieOptions(request, '/console', SESSION_TTL_MS / 1000));
  return session;
}

/**
 * preHandler of every console route not marked `config.public`: a live session or a
 * redirect to sign-in; for POST, a well-formed form carrying the session's CSRF token.
 */
export function requireConsoleSession(ctx: GatewayContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if ((request.routeOptions.config as { public?: boolean }).public) return;
    const session = await findSession(ctx.db, request.cookies[SESSION_COOKIE], SESSION_KIND);
    if (!session) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.redirect(`/console/login${next}`, 303);
    }
    sessions.set(request, session);
    if (request.method !== 'POST') return;
    let form: ConsoleForm;
    try {
      form = ConsoleForm.parse(request.body);
    } catch (err) {
      if (!(err instanceof BadForm)) throw err;
      return sendPage(reply, 400, messagePage('Bad request', `The form could not be read: ${err.message}`, session));
    }
    if (!tokenMatches(form.raw('_csrf'), session.csrf)) {
      return sendPage(reply, 403, messagePage('Refused', 'The form is missing its CSRF token or it is stale. Reload the page and try again.', session));
    }
    forms.set(request, form);
  };
}
