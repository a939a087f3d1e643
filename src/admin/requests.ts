import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { findRequestLog, listRequestLog, type LoggedRequest, type RequestLogFilter } from '../storage/repositories/request-log.ts';
import { AdminError, validate } from './validation.ts';

/** Epoch milliseconds, or a date/time string (ISO 8601; without an offset it is server-local time). */
const instant = z.string().transform((v, c) => {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(ms)) {
    c.addIssue({ code: 'custom', message: 'must be epoch milliseconds or a date/time such as 2024-05-13T17:49' });
    return z.NEVER;
  }
  return ms;
});

/** An empty filter field (as an HTML form sends it) means no filter. */
const blankless = (v: unknown) => (v === '' ? undefined : v);

/** The request log's filters, as query parameters of both /admin/api/requests and the console. */
const requestQuerySchema = z.object({
  caller: z.preprocess(blankless, z.string().max(64).optional()),
  method: z.preprocess(blankless, z.string().max(128).optional()),
  code: z.preprocess(blankless, z.string().max(64).optional()),
  since: z.preprocess(blankless, instant.optional()),
  until: z.preprocess(blankless, instant.optional()),
  limit: z.preprocess(blankless, z.coerce.number().int().min(1).max(1000).optional()),
});

export function parseRequestFilter(query: unknown): RequestLogFilter {
  return validate(requestQuerySchema, query);
}

/** Newest first, filtered by caller (app_id / partner), method or service, result code and time. */
export async function findRequests(ctx: GatewayContext, query: unknown): Promise<LoggedRequest[]> {
  const filter = parseRequestFilter(query);
  await ctx.requestLog.flush();
  return listRequestLog(ctx.db, filter);
}

export async function findRequest(ctx: GatewayContext, id: string): Promise<LoggedRequest> {
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw new AdminError(400, 'invalid_request', 'id must be a number');
  await ctx.requestLog.flush();
  const entry = await findRequestLog(ctx.db, n);
  if (!entry) throw new AdminError(404, 'not_found', 'no such request');
  return entry;
}

export function registerRequestLogRoutes(admin: FastifyInstance, ctx: GatewayContext): void {
  admin.get('/requests', async (request) => findRequests(ctx, request.query));
  admin.get<{ Params: { id: string } }>('/requests/:id', async (request) => findRequest(ctx, request.params.id));
}
