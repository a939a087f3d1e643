import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { BODY_LIMIT } from '../config.ts';

/**
 * `/gateway.do` serves both protocols, as Alipay's does: a request naming `service=` is
 * legacy MAPI, anything else OpenAPI (which then answers a missing `method` itself).
 * The raw query and body bytes are handed on undecoded: only the protocol knows which
 * charset to decode them in (`charset` / `_input_charset`, read from the query string).
 */
export interface GatewayRequest {
  httpMethod: string;
  /** The query string as received (after `?`), one char per byte. */
  rawQuery: string;
  /** The body bytes as received, or null for none. */
  rawBody: Buffer | null;
  contentType: string | undefined;
  receivedAt: number;
  fastify: FastifyRequest;
  /** Why the body could not be read (too large, cut short, unparseable type); the protocol refuses the request. */
  bodyError?: string;
}

export type GatewayHandler = (req: GatewayRequest, reply: FastifyReply) => Promise<unknown>;

export const GATEWAY_PATHS = ['/gateway.do', '/cooperate/gateway.do'];

/** Fastify's body-reading errors, in the words the request log keeps. */
const BODY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: `the request body is larger than ${BODY_LIMIT} bytes`,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body is not as long as its Content-Length says',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the Content-Type header cannot be parsed',
};

/** True when a raw `a=b&c=d` string has the key (keys are ASCII; values are not looked at). */
export function hasRawKey(raw: string, key: string): boolean {
  return raw.split('&').some((p) => p === key || p.startsWith(key + '='));
}

export function registerGatewayRoute(app: FastifyInstance, _ctx: GatewayContext, handlers: { openapi: GatewayHandler; mapi: GatewayHandler }): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply, bodyError?: string) => {
    const url = request.raw.url ?? '';
    const q = url.indexOf('?');
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const rawBody = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null;
    const req: GatewayRequest = {
      httpMethod: request.method,
      rawQuery,
      rawBody,
      contentType: request.headers['content-type'],
      receivedAt: performance.now(),
      fastify: request,
      bodyError,
    };
    const isMapi = hasRawKey(rawQuery, 'service') || (rawBody !== null && hasRawKey(rawBody.toString('latin1'), 'service'));
    return (isMapi ? handlers.mapi : handlers.openapi)(req, reply);
  };
  // Encapsulated so only the gateway keeps JSON bodies raw too: a client posting JSON (or
  // broken JSON) gets Alipay's answer from the protocol handler, not Fastify's 400.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const path of GATEWAY_PATHS) scope.route({ method: ['GET', 'POST'], url: path, handler: (request, reply) => handle(request, reply) });
    // A body Fastify refused to read (over BODY_LIMIT, cut short, an unparseable type) still
    // gets the protocol's own answer, decided from the query string, not Fastify's 413/415 JSON.
    scope.setErrorHandler((err: Error & { code?: string }, request, reply) => {
      const reason = BODY_ERRORS[err.code ?? ''];
      if (!reason) throw err;
      // Fastify set the error's status; the protocols answer with 200 (or their redirect).
      return handle(request, reply.code(200), reason);
    });
  });
}
