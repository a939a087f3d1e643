import type { Params } from '../../crypto/sign-content.ts';
import { explained, fail, gatewayError, type SubCode } from './codes.ts';

/**
 * The seeds' 公共请求参数 table: name, max length, presence, and the sub-codes for a
 * missing or invalid value. `app_id` and `method` are checked first by the handler,
 * since they decide which key signs the answer and which node carries it.
 */
interface CommonParam {
  name: string;
  maxLength?: number;
  /** Sub-code for an absent or empty value; absent = optional. */
  missing?: SubCode;
  invalid: SubCode;
}

const COMMON_PARAMS: readonly CommonParam[] = [
  { name: 'app_id', maxLength: 32, missing: 'isv.missing-app-id', invalid: 'isv.invalid-app-id' },
  { name: 'method', maxLength: 128, missing: 'isv.missing-method', invalid: 'isv.invalid-method' },
  { name: 'format', maxLength: 40, invalid: 'isv.invalid-format' },
  // Optional here: no sub-code exists for a missing charset, and utf-8 is what it defaults to.
  { name: 'charset', maxLength: 10, invalid: 'isv.invalid-charset' },
  { name: 'sign_type', maxLength: 10, missing: 'isv.missing-signature-type', invalid: 'isv.invalid-signature-type' },
  // 344 = base64 of a 2048-bit RSA signature (zhimaper seed; the koubei seed's 256 is an older revision).
  { name: 'sign', maxLength: 344, missing: 'isv.missing-signature', invalid: 'isv.invalid-signature' },
  { name: 'timestamp', maxLength: 19, missing: 'isv.missing-timestamp', invalid: 'isv.invalid-timestamp' },
  { name: 'version', maxLength: 3, missing: 'isv.missing-version', invalid: 'isv.invalid-parameter' },
  { name: 'app_auth_token', maxLength: 40, invalid: 'aop.invalid-app-auth-token' },
];

const BY_NAME = new Map(COMMON_PARAMS.map((p) => [p.name, p]));

export const OPENAPI_SIGN_TYPES = ['RSA2', 'RSA'] as const;
export type OpenApiSignType = (typeof OPENAPI_SIGN_TYPES)[number];

/** Presence and length of one common parameter; throws its documented error. */
export function checkPresent(params: Params, name: string): string | undefined {
  const spec = BY_NAME.get(name)!;
  const value = params[name];
  if (value === undefined || value === '') {
    if (spec.missing) fail(gatewayError(spec.missing));
    return undefined;
  }
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    fail(explained(gatewayError(spec.invalid), `${name} is longer than ${spec.maxLength} characters`));
  }
  return value;
}

/** Everything in the table except app_id and method (checked earlier), in table order. */
export function checkCommonParams(params: Params): { signType: OpenApiSignType; sign: string; timestamp: string } {
  for (const { name } of COMMON_PARAMS) if (name !== 'app_id' && name !== 'method') checkPresent(params, name);
  const format = params.format;
  // SDKs send `json`; the seeds say JSON: any case.
  if (format && format.toUpperCase() !== 'JSON') fail(explained(gatewayError('isv.invalid-format'), `format=${format}; only JSON is supported`));
  const signType = params.sign_type;
  if (!(OPENAPI_SIGN_TYPES as readonly string[]).includes(signType)) {
    fail(explained(gatewayError('isv.invalid-signature-type'), `sign_type=${signType}; use RSA2 or RSA`));
  }
  if (params.version !== '1.0') fail(gatewayError('isv.invalid-parameter', '参数无效：version 固定为 1.0'));
  if (timestampInstants(params.timestamp) === undefined) {
    fail(explained(gatewayError('isv.invalid-timestamp'), `timestamp must be "yyyy-MM-dd HH:mm:ss", got "${params.timestamp}"`));
  }
  return { signType: signType as OpenApiSignType, sign: params.sign, timestamp: params.timestamp };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * The instants a `yyyy-MM-dd HH:mm:ss` may mean: Beijing time (Java SDK) and this host's
 * local time (Node and Python SDKs send the client's local time; a local test client shares
 * our zone). Undefined when it is not a real date and time.
 */
function timestampInstants(value: string): [number, number] | undefined {
  const m = TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return [asUtc - 8 * 3_600_000, new Date(y, mo - 1, d, h, mi, s).getTime()];
}

/** Throws 40002 isv.invalid-timestamp when neither reading is within the tolerance of now. */
export function checkTimestampWindow(value: string, now: number, toleranceMs: number): void {
  const instants = timestampInstants(value)!;
  if (instants.some((t) => Math.abs(now - t) <= toleranceMs)) return;
  fail(explained(
    gatewayError('isv.invalid-timestamp'),
    `timestamp ${value} is more than ${Math.round(toleranceMs / 1000)}s away from the gateway's clock (read as Beijing time or as the server's local time)`,
  ));
}
