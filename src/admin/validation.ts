import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/** Parses an admin request body with a zod schema; on failure answers 400 with the reasons. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, reply: FastifyReply): z.infer<T> | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  reply.code(400).send({
    error: 'invalid_request',
    message: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  });
  return undefined;
}
