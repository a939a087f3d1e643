import type { FaultRule } from '../../storage/repositories/faults.ts';
import { commonSubCodeFor, gatewayError, isCommonSubCode, type OpenApiError } from './codes.ts';
import type { MethodSpec } from './registry.ts';

/**
 * The error a fault rule injects, shaped like a real one: a catalogued sub-code gets its
 * gateway code and sub_msg, one of the method's own codes (e.g. SYSTEM_ERROR) gets 40004
 * and the seed's description; the rule's own code/sub_msg win. Undefined for latency-only rules.
 */
export function faultError(spec: MethodSpec, rule: FaultRule): OpenApiError | undefined {
  if (!rule.code && !rule.sub_code) return undefined;
  const subCode = rule.sub_code ?? defaultSubCode(spec, rule.code!);
  const known = isCommonSubCode(subCode) ? gatewayError(subCode) : spec.errors[subCode];
  return {
    code: rule.code ?? known?.code ?? '40004',
    sub_code: subCode,
    sub_msg: rule.sub_msg ?? known?.sub_msg ?? '系统繁忙',
    detail: `injected by fault rule #${rule.id}`,
  };
}

function defaultSubCode(spec: MethodSpec, code: string): string {
  if (code === '40004') return spec.errors.SYSTEM_ERROR ? 'SYSTEM_ERROR' : (Object.keys(spec.errors)[0] ?? 'isp.unknow-error');
  return commonSubCodeFor(code) ?? 'isp.unknow-error';
}
