import type { GatewayContext } from '../../context.ts';
import type { Params } from '../../crypto/sign-content.ts';
import { maskParams, piiScrubber } from '../../domain/pii.ts';

/**
 * The request log entry of an OpenAPI call. Params are masked field by field (maskParams);
 * texts that may quote them — the answer (an isv.invalid-signature sub_msg carries the
 * string to sign) and the signature diagnosis — have every personal value the request
 * carried replaced by its mask (piiScrubber).
 */
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

/** Queued for the batched writer: never fails or delays the request. */
export function logOpenApiRequest(ctx: GatewayContext, e: OpenApiLogEntry): void {
  const scrub = piiScrubber(e.params);
  ctx.requestLog.append({
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
}
