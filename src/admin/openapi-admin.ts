import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { findApp } from '../storage/repositories/apps.ts';
import { findOperator } from '../storage/repositories/koubei.ts';
import { issueAuthCode } from '../storage/repositories/auth-codes.ts';
import { listSms } from '../storage/repositories/sms.ts';
import { parseBody } from './validation.ts';

/**
 * Admin helpers of the OpenAPI services: Koubei auth codes for automated tests (any TTL
 * from 1 second, so expiry is quick to test; the portal uses the app's TTL) and the SMS
 * notices queued by alipay.user.auth.zhimaper.inner.apply.
 */
const authCodeSchema = z.object({
  app_id: z.string().min(1).max(32),
  operator_id: z.string().min(1).max(28),
  ttl_seconds: z.number().int().min(1).max(86_400).optional(),
  ext_info: z.string().max(512).optional(),
});

const smsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export function registerOpenApiAdminRoutes(admin: FastifyInstance, ctx: GatewayContext): void {
  admin.post('/koubei/auth-codes', async (request, reply) => {
    const body = parseBody(authCodeSchema, request.body, reply);
    if (!body) return;
    const app = await findApp(ctx.db, body.app_id);
    if (!app) return reply.code(404).send({ error: 'not_found', message: `no app ${body.app_id}` });
    if (!(await findOperator(ctx.db, body.operator_id))) {
      return reply.code(404).send({ error: 'not_found', message: `no Koubei operator ${body.operator_id}` });
    }
    const code = await issueAuthCode(ctx.db, {
      app_id: app.app_id,
      operator_id: body.operator_id,
      ext_info: body.ext_info,
      ttl_seconds: body.ttl_seconds ?? app.auth_code_ttl_seconds,
    });
    return reply.code(201).send({ code: code.code, expires_at: code.expires_at, app_id: code.app_id, operator_id: code.operator_id });
  });

  admin.get('/sms', async (request, reply) => {
    const query = parseBody(smsQuery, request.query, reply);
    if (!query) return;
    return listSms(ctx.db, query.limit);
  });
}
