import type { GatewayContext } from '../../context.ts';
import type { Params } from '../../crypto/sign-content.ts';
import { maskCertNo, maskMobile, maskName, maskParams } from '../../domain/pii.ts';
import { appendRequestLog } from '../../storage/repositories/request-log.ts';

/**
 * The request log entry of an OpenAPI call. Params are masked field by field (maskParams);
 * texts that may quote them — the answer (an isv.invalid-signature sub_msg carries the
 * string to sign) and the signature diagnosis — have every personal value the request
 * carried replaced by its mask.
 */
const PII_MASKS: Record<string, (v: string) => string> = { cert_no: maskCertNo, mobile: maskMobile, name: maskName };

export function piiScrubber(params: Params): (text: string) => string {
  const pairs: Array<[string, string]> = [];
  const collect = (source: Record<string, unknown>) => {
    for (const [key, mask] of Object.entries(PII_MASKS)) {
      const v = source[key];
      const text = typeof v === 'number' ? String(v) : v;
      if (typeof text === 'string' && text.trim() !== '') pairs.push([text, mask(text)], [text.trim(), mask(text.trim())]);
    }
  };
  collect(params);
  try {
    const biz: unknown = JSON.parse(params.biz_content ?? '');
    if (biz && typeof biz === 'object') collect(biz as Record<string, unknown>);
  } catch {
    // Not JSON: maskParams already reduces it to its length; nothing to collect here.
  }
  // Longest first, so a value that contains another is replaced whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((t, [value, masked]) => t.replaceAll(value, masked), text);
}

export interface OpenApiLogEntry {
  params: Params;
  caller: string | null;
  method: string | null;
  httpMethod: string;
  responseText: string;
  code: string;
  subCode: string | null;
  latencyMs: number;
  /** Why the request was refused: the signature diagnosis, or a developer-facing detail. */
  diagnosis: Record<string, unknown> | undefined;
  traceId: string;
}

/** Never fails the request: a log write that fails is reported on the process log instead. */
export async function logOpenApiRequest(ctx: GatewayContext, e: OpenApiLogEntry): Promise<void> {
  const scrub = piiScrubber(e.params);
  try {
    await appendRequestLog(ctx.db, {
      at: Date.now(),
      gateway: 'openapi',
      caller: e.caller,
      method: e.method,
      http_method: e.httpMethod,
      params: maskParams(e.params),
      response: scrub(e.responseText),
      code: e.code,
      sub_code: e.subCode,
      latency_ms: e.latencyMs,
      diagnosis: e.diagnosis && Object.fromEntries(Object.entries(e.diagnosis).map(([k, v]) => [k, typeof v === 'string' ? scrub(v) : v])),
      trace_id: e.traceId,
    });
  } catch (err) {
    ctx.logger.error({ err: { message: (err as Error).message }, trace_id: e.traceId }, 'request log write failed');
  }
}
