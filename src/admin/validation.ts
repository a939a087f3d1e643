import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/**
 * A refused admin operation, with the HTTP status and error name the admin API answers.
 * Operations shared by the admin API and the console throw it; each caller renders it
 * its own way (JSON, or a message on the page).
 */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: 'invalid_request' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** Parses input with a zod schema; on failure throws a 400 AdminError naming the fields. */
export function validate<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new AdminError(400, 'invalid_request', describeIssues(result.error));
  return result.data;
}

/** Parses an admin request body with a zod schema; on failure answers 400 with the reasons. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, reply: FastifyReply): z.infer<T> | undefined {
  try {
    return validate(schema, body);
  } catch (err) {
    if (!(err instanceof AdminError)) throw err;
    reply.code(err.status).send({ error: err.code, message: err.message });
    return undefined;
  }
}
