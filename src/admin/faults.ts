import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { deleteFault, insertFault, listFaults } from '../storage/repositories/faults.ts';
import { parseBody } from './validation.ts';

/**
 * Fault injection rules: `POST /admin/api/faults` { target: method/service or "*", code?,
 * sub_code?, sub_msg?, latency_ms?, count? (next N calls), probability? (share of calls) }.
 */
export const faultSchema = z
  .object({
    target: z.string().min(1).max(128),
    code: z.string().regex(/^\d{5}$/, 'a 5-digit gateway code such as 20000 or 40004').optional(),
    sub_code: z.string().min(1).max(64).optional(),
    sub_msg: z.string().max(256).optional(),
    latency_ms: z.number().int().min(0).max(60_000).default(0),
    count: z.number().int().min(1).max(1_000_000).optional(),
    probability: z.number().gt(0).max(1).optional(),
  })
  .refine((f) => f.code || f.sub_code || f.latency_ms > 0, 'give a code, a sub_code or a latency_ms');

export function registerFaultRoutes(admin: FastifyInstance, ctx: GatewayContext): void {
  admin.get('/faults', async () => listFaults(ctx.db));
  admin.post('/faults', async (request, reply) => {
    const body = parseBody(faultSchema, request.body, reply);
    if (!body) return;
    const rule = await insertFault(ctx.db, {
      target: body.target,
      code: body.code ?? null,
      sub_code: body.sub_code ?? null,
      sub_msg: body.sub_msg ?? null,
      latency_ms: body.latency_ms,
      remaining: body.count ?? null,
      probability: body.probability ?? null,
    });
    return reply.code(201).send(rule);
  });
  admin.delete<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    const id = Number(request.params.id);
    if (!Number.isInteger(id)) return reply.code(400).send({ error: 'invalid_request', message: 'id must be a number' });
    return (await deleteFault(ctx.db, id)) ? { deleted: id } : reply.code(404).send({ error: 'not_found', message: 'no such fault rule' });
  });
  admin.delete('/faults', async () => ({ deleted: await deleteFault(ctx.db) }));
}
