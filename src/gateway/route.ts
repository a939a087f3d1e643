import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';

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
}

export type GatewayHandler = (req: GatewayRequest, reply: FastifyReply) => Promise<unknown>;

export const GATEWAY_PATHS = ['/gateway.do', '/cooperate/gateway.do'];

/** True when a raw `a=b&c=d` string has the key (keys are ASCII; values are not looked at). */
export function hasRawKey(raw: string, key: string): boolean {
  return raw.split('&').some((p) => p === key || p.startsWith(key + '='));
}

export function registerGatewayRoute(app: FastifyInstance, _ctx: GatewayContext, handlers: { openapi: GatewayHandler; mapi: GatewayHandler }): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
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
    };
    const isMapi = hasRawKey(rawQuery, 'service') || (rawBody !== null && hasRawKey(rawBody.toString('latin1'), 'service'));
    return (isMapi ? handlers.mapi : handlers.openapi)(req, reply);
  };
  // Encapsulated so only the gateway keeps JSON bodies raw too: a client posting JSON (or
  // broken JSON) gets Alipay's answer from the protocol handler, not Fastify's 400.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const path of GATEWAY_PATHS) scope.route({ method: ['GET', 'POST'], url: path, handler: handle });
  });
}
