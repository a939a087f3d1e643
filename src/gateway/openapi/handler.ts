import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayContext } from '../../context.ts';
import type { Metrics } from '../../metrics.ts';
import { encode, type Charset } from '../../crypto/charset.ts';
import { diagnoseSignature, type Diagnosis } from '../../crypto/diagnose.ts';
import { openApiRequestContent, type Params } from '../../crypto/sign-content.ts';
import { verify } from '../../crypto/signature.ts';
import { hex } from '../../domain/ids.ts';
import { findApp, findCachedApp, type App } from '../../storage/repositories/apps.ts';
import { takeFault } from '../../storage/repositories/faults.ts';
import { findToken } from '../../storage/repositories/zhima.ts';
import type { GatewayHandler, GatewayRequest } from '../route.ts';
import { explained, fail, gatewayError, OpenApiFailure, type OpenApiError } from './codes.ts';
import { checkCommonParams, checkPresent, checkTimestampWindow, type OpenApiSignType } from './common-params.ts';
import { faultError } from './fault.ts';
import { readInput } from './input.ts';
import { peekCaller, readParams, requestCharset } from './params.ts';
import { findMethod, listMethods, type MethodSpec } from './registry.ts';
import { ERROR_NODE, errorNode, methodNode, renderAnswer, sendAnswer, successNode, type RenderedAnswer } from './response.ts';
import { logOpenApiRequest } from './audit.ts';
import { limitApp } from '../rate-limit.ts';

/**
 * The OpenAPI gateway, in the protocol's order: parse → app → method → common params →
 * signature → timestamp → tokens → permission → fault rules → business params → the
 * method's decision in one transaction → signed answer. Every request, answered or
 * refused, goes to the request log.
 */
interface Progress {
  charset: Charset;
  decoded: boolean;
  params: Params;
  rawParams: Params;
  /** Known app: its platform key signs the answer. Known method: its node carries it. */
  app?: App;
  spec?: MethodSpec;
  diagnosis?: Record<string, unknown>;
}

export function createOpenApiHandler(ctx: GatewayContext, metrics: Metrics): GatewayHandler {
  return async (req, reply) => {
    const traceId = hex(16);
    const p: Progress = { charset: requestCharset(req), decoded: false, params: {}, rawParams: {} };
    let fields: Record<string, unknown> = {};
    let error: OpenApiError | undefined;
    try {
      fields = await serve(ctx, req, p);
    } catch (err) {
      error = err instanceof OpenApiFailure ? err.error : unexpected(ctx, err, traceId);
      if (!p.decoded) await addressUndecodable(ctx, req, p);
    }

    let answer: RenderedAnswer;
    try {
      answer = await render(p, error, fields);
    } catch (err) {
      // Only a broken platform key gets here: answer unsigned rather than not at all.
      error = unexpected(ctx, err, traceId);
      answer = await renderAnswer(ERROR_NODE, errorNode(error), p.charset);
    }
    const latencyMs = performance.now() - req.receivedAt;
    const code = error?.code ?? '10000';
    logOpenApiRequest(ctx, {
      params: p.params,
      caller: (p.app?.app_id ?? p.params.app_id ?? peekCaller(req).app_id)?.slice(0, 64) ?? null,
      method: (p.params.method ?? peekCaller(req).method)?.slice(0, 128) ?? null,
      httpMethod: req.httpMethod,
      responseText: answer.text,
      code,
      subCode: error?.sub_code ?? null,
      latencyMs,
      diagnosis: p.diagnosis ?? (error?.detail ? { detail: error.detail } : undefined),
      traceId,
    });
    // Only implemented methods as label values: unknown names must not grow the series.
    metrics.gatewayRequests.inc({ gateway: 'openapi', method: p.spec?.method ?? 'unknown', code });
    return sendAnswer(reply, answer, traceId);
  };
}

async function serve(ctx: GatewayContext, req: GatewayRequest, p: Progress): Promise<Record<string, unknown>> {
  Object.assign(p, readParams(req), { decoded: true });
  const { params } = p;

  const appId = checkPresent(params, 'app_id')!;
  const app = (await findCachedApp(ctx.db, appId)) ?? fail(explained(gatewayError('isv.invalid-app-id'), `no app ${appId}`));
  p.app = app;
  const method = checkPresent(params, 'method')!;
  const spec = findMethod(method) ?? fail(explained(gatewayError('isv.invalid-method'), `gatewaydo implements ${listMethods().map((m) => m.method).join(', ')}`));
  p.spec = spec;
  if (req.bodyError) fail(explained(gatewayError('isv.invalid-parameter', '参数无效：请求体无法读取（超过 1 MiB、不完整或 Content-Type 无效）'), req.bodyError));

  const common = checkCommonParams(params);
  if (common.signType !== app.sign_type) {
    fail(explained(gatewayError('isv.missing-signature-config'), `sign_type=${common.signType}, but app ${appId} is configured for ${app.sign_type}`));
  }
  await authenticate(p, app, common.signType, common.sign);
  checkTimestampWindow(common.timestamp, Date.now(), ctx.config.timestampToleranceMs);
  limitApp(ctx, app.app_id);
  if (params.app_auth_token) {
    // Nothing issues app_auth_tokens here (no alipay.open.auth.token.app), so none is valid.
    fail(explained(gatewayError('aop.invalid-app-auth-token'), 'gatewaydo issues no app_auth_token; call without it'));
  }
  if (params.auth_token) await checkAuthToken(ctx, app, params.auth_token);
  if (!app.methods.includes(method)) {
    fail(explained(gatewayError('isv.insufficient-isv-permissions'), `${method} is not granted to app ${appId} (PATCH /admin/api/apps/${appId} with its methods)`));
  }

  const rule = await takeFault(ctx.db, method);
  if (rule) {
    if (rule.latency_ms > 0) await sleep(rule.latency_ms);
    const injected = faultError(spec, rule);
    if (injected) fail(injected);
  }

  const input = readInput(spec, params);
  return ctx.db.transaction().execute((db) => spec.handle({ db, ctx, app, input, now: Date.now() }));
}

/**
 * Verifies the request signature. Whether Alipay keeps empty values in the string is
 * unconfirmed (Node and Python keep `k=`, Java never sends them), so either form passes.
 */
async function authenticate(p: Progress, app: App, signType: OpenApiSignType, signature: string): Promise<void> {
  const { params, rawParams, charset } = p;
  const kept = openApiRequestContent(params, false);
  const dropped = openApiRequestContent(params, true);
  let ok: boolean;
  try {
    ok = (await verify(signType, encode(kept, charset), signature, app.app_public_key))
      || (dropped !== kept && (await verify(signType, encode(dropped, charset), signature, app.app_public_key)));
  } catch {
    return fail(explained(gatewayError('isv.missing-signature-config'), `the public key configured for app ${app.app_id} cannot verify ${signType}`));
  }
  if (ok) return;
  const diagnosis = diagnose(p, app, signType, signature);
  p.diagnosis = diagnosis && { ...diagnosis };
  fail(gatewayError('isv.invalid-signature', signatureMessage(diagnosis, kept)));
}

function diagnose(p: Progress, app: App, signType: OpenApiSignType, signature: string): Diagnosis | undefined {
  try {
    return diagnoseSignature({
      params: p.params,
      rawParams: p.rawParams,
      charset: p.charset,
      signType,
      signature,
      key: app.app_public_key,
      build: (params) => openApiRequestContent(params, false),
    });
  } catch {
    // A diagnosis is a courtesy; its failure must not change the answer.
    return undefined;
  }
}

/** Alipay's sub_msg variants for a failed verification (PROTOCOL.md §Gateway codes). */
function signatureMessage(diagnosis: Diagnosis | undefined, stringToSign: string): string {
  if (diagnosis?.cause === 'sign_type_mismatch') return '验签出错，sign值与sign_type参数指定的签名类型不一致';
  if (diagnosis?.cause === 'charset_mismatch') return '验签出错，请确认charset参数放在了URL查询字符串中且各参数值使用charset参数指示的字符集编码';
  return `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${stringToSign}`;
}

/** A user `auth_token`, when sent, must be a live access token of this app. */
async function checkAuthToken(ctx: GatewayContext, app: App, accessToken: string): Promise<void> {
  const token = await findToken(ctx.db, accessToken);
  if (!token || token.app_id !== app.app_id || token.revoked_at !== null) {
    fail(explained(gatewayError('aop.invalid-auth-token'), 'unknown, revoked or another app\'s access token'));
  }
  if (token.expires_at !== null && token.expires_at <= Date.now()) fail(gatewayError('aop.auth-token-time-out'));
}

/** Finds whom to answer when the values could not be decoded: app and method read leniently. */
async function addressUndecodable(ctx: GatewayContext, req: GatewayRequest, p: Progress): Promise<void> {
  const { app_id, method } = peekCaller(req);
  try {
    p.app = app_id && app_id.length <= 32 ? await findApp(ctx.db, app_id) : undefined;
  } catch {
    p.app = undefined;
  }
  p.spec = p.app && method ? findMethod(method) : undefined;
}

function render(p: Progress, error: OpenApiError | undefined, fields: Record<string, unknown>): Promise<RenderedAnswer> {
  const signer = p.app && { signType: p.app.sign_type as OpenApiSignType, privateKey: p.app.platform_private_key };
  if (!error) return renderAnswer(methodNode(p.spec!.method), successNode(fields, p.spec!.tokenStyle), p.charset, signer);
  // error_response where no method node can be named, and for token-style methods.
  const name = p.spec && !p.spec.tokenStyle ? methodNode(p.spec.method) : ERROR_NODE;
  return renderAnswer(name, errorNode(error), p.charset, signer);
}

function unexpected(ctx: GatewayContext, err: unknown, traceId: string): OpenApiError {
  const e = err as Error & { code?: string };
  // Message and code only: never the params, which may hold personal data.
  ctx.logger.error({ err: { name: e?.name, message: e?.message, code: e?.code }, trace_id: traceId }, 'openapi request failed');
  return gatewayError('isp.unknow-error');
}
