import type { GatewayContext } from '../../context.ts';
import type { Metrics } from '../../metrics.ts';
import { beginBindFlow } from '../../pages/bind.ts';
import { errorPage } from '../../pages/bind-views.ts';
import { PAGE_HEADERS } from '../../pages/html.ts';
import type { GatewayHandler } from '../route.ts';
import { runMapi } from './run.ts';
import { mapiXml } from './xml.ts';

/**
 * The legacy MAPI gateway (`service=`) over HTTP. Every answer is HTTP 200, as Alipay's:
 * a redirect (to the bind pages or a signed return_url), old MAPI XML for server calls,
 * text for notify_verify, or the "调试错误" page naming the code. A refused request is
 * never sent on to its return_url.
 */
export function createMapiHandler(ctx: GatewayContext, metrics: Metrics): GatewayHandler {
  return async (req, reply) => {
    const { outcome, label } = await runMapi(ctx, req);
    metrics.gatewayRequests.inc({ gateway: 'mapi', method: label, code: outcome.code });
    reply.header('cache-control', 'no-store');
    switch (outcome.kind) {
      case 'bind_page':
        return reply.redirect(await beginBindFlow(ctx, reply, outcome.bindRequestId), 302);
      case 'redirect':
        return reply.redirect(outcome.location, 302);
      case 'xml':
        return reply.type('text/xml; charset=utf-8').send(outcome.body);
      case 'text':
        return reply.type('text/plain; charset=utf-8').send(outcome.body);
      case 'error':
        if (!outcome.browser) return reply.type('text/xml; charset=utf-8').send(mapiXml(outcome.code));
        return reply.headers(PAGE_HEADERS).send(errorPage(outcome.error.code, outcome.error.detail, outcome.error.diagnosis));
    }
  };
}
