import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { GATEWAY_PATHS } from '../gateway/route.ts';
import { MapiError } from '../gateway/mapi/errors.ts';
import { runMapi } from '../gateway/mapi/run.ts';
import { decideBind } from '../services/sns.account.bind.ts';
import { listBindings } from '../storage/repositories/bindings.ts';
import { findMemberByLogin } from '../storage/repositories/members.ts';
import { listNotifications, makeNotificationDue } from '../storage/repositories/notifications.ts';
import { AdminError, validate } from './validation.ts';

/**
 * Admin API for the legacy MAPI gateway: the headless bind flow for CI, bindings, and the
 * notification outbox with each attempt and a resend.
 */
const completeSchema = z.object({
  url: z.string().min(1).max(8192),
  login_id: z.string().min(1).max(100),
  decision: z.enum(['agree', 'refuse']),
});

const listSchema = z.object({
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
  owner: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** The query of a gateway URL as a client sends it: raw, non-ASCII as UTF-8 bytes. */
function gatewayQuery(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdminError(400, 'invalid_request', 'url: not an absolute URL');
  }
  if (!GATEWAY_PATHS.includes(parsed.pathname)) throw new AdminError(400, 'invalid_request', `url: not a gateway URL (${GATEWAY_PATHS.join(' or ')})`);
  const withoutFragment = url.split('#')[0];
  const q = withoutFragment.indexOf('?');
  return q === -1 ? '' : Buffer.from(withoutFragment.slice(q + 1), 'utf8').toString('latin1');
}

/** Resend now (admin API and console): the notification is due at once; a failed one gets one more attempt. */
export async function resendNotification(ctx: GatewayContext, id: string): Promise<number> {
  const n = Number(id);
  if (!Number.isInteger(n)) throw new AdminError(400, 'invalid_request', 'id must be a number');
  if (!(await makeNotificationDue(ctx.db, n))) throw new AdminError(404, 'not_found', 'no such notification');
  return n;
}

export function registerMapiAdminRoutes(admin: FastifyInstance, ctx: GatewayContext): void {
  /**
   * Runs the bind flow without a browser: the URL goes through the gateway exactly as a
   * browser's request would; the member (by login_id, no password: the caller holds the
   * admin token) then decides on the same code path as the consent page.
   */
  admin.post('/mapi/complete', async (request, reply) => {
    const body = validate(completeSchema, request.body);
    const { outcome } = await runMapi(ctx, { httpMethod: 'GET', rawQuery: gatewayQuery(body.url), rawBody: null, contentType: undefined });
    if (outcome.kind === 'error') {
      return reply.code(400).send({ error: outcome.code, message: outcome.error.detail ?? outcome.code, diagnosis: outcome.error.diagnosis ?? null });
    }
    if (outcome.kind === 'redirect') return { return_url: outcome.location, code: outcome.code };
    if (outcome.kind !== 'bind_page') throw new AdminError(400, 'invalid_request', 'url: not a page service that returns to a return_url');
    const member = await findMemberByLogin(ctx.db, ctx.vault, body.login_id);
    if (!member) throw new AdminError(400, 'invalid_request', `login_id: no member ${body.login_id}`);
    try {
      const decided = await decideBind(ctx, outcome.bindRequestId, member.user_id, body.decision);
      return { return_url: decided.location, code: decided.code };
    } catch (err) {
      if (!(err instanceof MapiError)) throw err;
      return reply.code(400).send({ error: err.code, message: err.detail ?? err.code, diagnosis: null });
    }
  });

  admin.get<{ Querystring: { partner?: string } }>('/mapi/bindings', async (request) => listBindings(ctx.db, request.query.partner));

  admin.get('/notifications', async (request) => {
    const q = validate(listSchema, request.query);
    return listNotifications(ctx.db, q);
  });

  admin.post<{ Params: { id: string } }>('/notifications/:id/resend', async (request) => ({ resent: await resendNotification(ctx, request.params.id) }));
}
