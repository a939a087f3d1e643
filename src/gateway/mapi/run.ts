import type { GatewayContext } from '../../context.ts';
import { hex } from '../../domain/ids.ts';
import { maskParams, piiScrubber } from '../../domain/pii.ts';
import { snsAccountBind } from '../../services/sns.account.bind.ts';
import { snsCancelAccountBind } from '../../services/sns.cancel.account.bind.ts';
import { MapiError } from './errors.ts';
import { notifyVerify } from './notify-verify.ts';
import { authenticate, rawPairs, readMapiRequest, type MapiInput, type ParsedMapi } from './request.ts';
import type { MapiAnswer, MapiService } from './service.ts';

/** The MAPI service registry, by Alipay name. */
const SERVICES = new Map<string, MapiService>([snsAccountBind, snsCancelAccountBind].map((s) => [s.name, s]));

const NOTIFY_VERIFY = 'notify_verify';

export type MapiOutcome =
  | MapiAnswer
  | { kind: 'text'; body: string; code: string }
  /** Refused before a person was involved: shown as a page to browsers, XML to servers. */
  | { kind: 'error'; error: MapiError; browser: boolean; code: string };

export interface MapiRun {
  outcome: MapiOutcome;
  /** A bounded label for metrics: a known service, notify_verify or `unknown`. */
  label: string;
}

function describe(outcome: MapiOutcome): string {
  switch (outcome.kind) {
    case 'redirect':
      return `302 ${outcome.location}`;
    case 'bind_page':
      return `302 /mapi/bind/${outcome.bindRequestId}`;
    case 'error':
      return outcome.error.message;
    default:
      return outcome.body;
  }
}

/**
 * One MAPI request, start to answer: decode, find the service (or notify_verify),
 * authenticate, let the service decide — and write it to the request log (masked, with
 * the signature diagnosis when there is one). The gateway route and the headless admin
 * path both come through here.
 */
export async function runMapi(ctx: GatewayContext, input: MapiInput & { receivedAt?: number }): Promise<MapiRun> {
  const started = input.receivedAt ?? performance.now();
  const verifying = rawPairs(input.rawQuery).some(([k, v]) => k === 'service' && v === NOTIFY_VERIFY);
  let parsed: ParsedMapi | undefined;
  let service: MapiService | undefined;
  let outcome: MapiOutcome;
  try {
    parsed = readMapiRequest(input);
    if (input.bodyError) throw new MapiError('ILLEGAL_ARGUMENT', input.bodyError);
    const name = parsed.params.service;
    if (name === NOTIFY_VERIFY) {
      const body = await notifyVerify(ctx, parsed.params);
      outcome = { kind: 'text', body, code: body };
    } else {
      service = name ? SERVICES.get(name) : undefined;
      if (!service) throw new MapiError('ILLEGAL_SERVICE', name ? `接口 ${name} 不存在` : '缺少参数 service');
      outcome = await service.handle(ctx, await authenticate(ctx, parsed, service));
    }
  } catch (err) {
    let error: MapiError;
    if (err instanceof MapiError) error = err;
    else {
      ctx.logger.error({ err: { message: (err as Error).message } }, 'mapi request failed');
      error = new MapiError('SYSTEM_ERROR');
    }
    outcome = verifying
      ? { kind: 'text', body: 'invalid', code: 'invalid' }
      : { kind: 'error', error, browser: !service || !parsed || service.answersBrowser(parsed.params), code: error.code };
  }
  const params = parsed?.params ?? Object.fromEntries(rawPairs(input.rawQuery));
  // MAPI services take no personal data, but a caller may send any parameter; a diagnosis quotes them all.
  const scrub = piiScrubber(params);
  const diagnosis = outcome.kind === 'error' && outcome.error.diagnosis;
  ctx.requestLog.append({
    at: Date.now(),
    gateway: 'mapi',
    caller: params.partner ?? null,
    method: params.service ?? null,
    http_method: input.httpMethod,
    params: maskParams(params),
    response: scrub(describe(outcome)),
    code: outcome.code,
    sub_code: null,
    latency_ms: performance.now() - started,
    diagnosis: diagnosis ? { ...diagnosis, string_to_sign: scrub(diagnosis.string_to_sign), detail: scrub(diagnosis.detail) } : null,
    trace_id: hex(16),
  });
  return { outcome, label: service?.name ?? (verifying ? NOTIFY_VERIFY : 'unknown') };
}
