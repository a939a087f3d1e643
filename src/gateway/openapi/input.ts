import type { Params } from '../../crypto/sign-content.ts';
import { explained, fail, gatewayError, type OpenApiError } from './codes.ts';
import type { FieldSpec, MethodSpec } from './registry.ts';

/**
 * A method's business params, checked against its table: `biz_content` must be a JSON
 * object; each declared field present when required, a string (numbers are taken as
 * their text, as Alipay's JSON binding does), within its max length. Undeclared fields
 * are ignored, as Alipay ignores them.
 */
export function readInput(spec: MethodSpec, params: Params): Record<string, string> {
  const source = spec.input === 'biz_content' ? parseBizContent(params.biz_content) : params;
  const input: Record<string, string> = {};
  for (const field of spec.fields) {
    const value = fieldValue(spec, field, source[field.name]);
    if (value === undefined || value.trim() === '') {
      if (field.required) {
        fail(field.onMissing ?? invalid(spec, `缺少必选参数${field.name}`, `${field.name} is required`));
      }
      continue;
    }
    if ([...value].length > field.maxLength) {
      fail(invalid(spec, `参数${field.name}超过最大长度${field.maxLength}`, `${field.name} is longer than ${field.maxLength} characters`));
    }
    input[field.name] = value;
  }
  return input;
}

function parseBizContent(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(gatewayError('isv.invalid-parameter', '参数无效：biz_content 不是合法的 JSON', (err as Error).message));
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(gatewayError('isv.invalid-parameter', '参数无效：biz_content 必须是 JSON 对象'));
  }
  return parsed as Record<string, unknown>;
}

function fieldValue(spec: MethodSpec, field: FieldSpec, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(invalid(spec, `参数${field.name}类型错误，应为${field.type}`, `${field.name} must be a ${field.type}, got ${Array.isArray(value) ? 'array' : typeof value}`));
}

/** The method's own parameter error where its seed has one, else 40002 isv.invalid-parameter. */
function invalid(spec: MethodSpec, message: string, detail: string): OpenApiError {
  return spec.invalidParameter
    ? explained(spec.invalidParameter, detail)
    : gatewayError('isv.invalid-parameter', `参数无效：${message}`, detail);
}
