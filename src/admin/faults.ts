import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { deleteFault, insertFault, listFaults, type FaultRule } from '../storage/repositories/faults.ts';
import { AdminError, validate } from './validation.ts';

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

export async function addFaultRule(ctx: GatewayContext, input: unknown): Promise<FaultRule> {
  const body = validate(faultSchema, input);
  return insertFault(ctx.db, {
    target: body.target,
    code: body.code ?? null,
    sub_code: body.sub_code ?? null,
    sub_msg: body.sub_msg ?? null,
    latency_ms: body.latency_ms,
    remaining: body.count ?? null,
    probability: body.probability ?? null,
  });
}

/** Deletes one rule by its id (as given in a URL), or throws 400/404. */
export async function removeFaultRule(ctx: GatewayContext, id: string): Promise<number> {
  const n = Number(id);
  if (!Number.isInteger(n)) throw new AdminError(400, 'invalid_request', 'id must be a number');
  if (!(await deleteFault(ctx.db, n))) throw new AdminError(404, 'not_found', 'no such fault rule');
  return n;
}

export function registerFaultRoutes(admin: FastifyInstance, ctx: GatewayContext): void {
  admin.get('/faults', async () => listFaults(ctx.db));
  admin.post('/faults', async (request, reply) => reply.code(201).send(await addFaultRule(ctx, request.body)));
  admin.delete<{ Params: { id: string } }>('/faults/:id', async (request) => ({ deleted: await removeFaultRule(ctx, request.params.id) }));
  admin.delete('/faults', async () => ({ deleted: await deleteFault(ctx.db) }));
}
