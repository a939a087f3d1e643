import { MapiError } from './errors.ts';

/**
 * A parameter as a seed's table declares it: name, String(n) length, 可空, allowed values.
 * Lengths count UTF-16 code units, as Java's String.length() does.
 */
export interface ParamSpec {
  name: string;
  max: number;
  required: boolean;
  values?: readonly string[];
  /** An http(s) URL, within the partner's allowed domains when it has any. */
  url?: boolean;
}

/** The basic parameters every MAPI service shares (seed §3, 基本参数). */
export const ENVELOPE_PARAMS: readonly ParamSpec[] = [
  // 'gb2312' is exactly 6 characters.
  { name: '_input_charset', max: 6, required: true },
  { name: 'sign_type', max: 3, required: true },
  // The seed says String(100), which holds MD5 (32) and DSA (~64) signatures; a 2048-bit
  // RSA signature is 344 base64 characters, so that is what we accept.
  { name: 'sign', max: 344, required: true },
  { name: 'service', max: 128, required: true },
  { name: 'partner', max: 30, required: true },
];

function hostAllowed(host: string, domains: readonly string[]): boolean {
  return domains.map((d) => d.toLowerCase()).some((d) => host === d || host.endsWith('.' + d));
}

function checkUrl(name: string, value: string, allowedDomains: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MapiError('ILLEGAL_ARGUMENT', `${name} 不是合法的 URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MapiError('ILLEGAL_ARGUMENT', `${name} 必须是 http 或 https 地址`);
  if (allowedDomains.length > 0 && !hostAllowed(url.hostname, allowedDomains)) {
    throw new MapiError('ILLEGAL_ARGUMENT', `${name} 的域名 ${url.hostname} 不在合作伙伴允许的域名内`);
  }
}

/** ILLEGAL_ARGUMENT naming the first parameter that is missing, too long or not allowed. */
export function checkParams(specs: readonly ParamSpec[], params: Record<string, string>, allowedDomains: readonly string[] = []): void {
  for (const spec of specs) {
    const value = params[spec.name];
    if (value === undefined || value === '') {
      if (spec.required) throw new MapiError('ILLEGAL_ARGUMENT', `缺少参数 ${spec.name}`);
      continue;
    }
    if (value.length > spec.max) throw new MapiError('ILLEGAL_ARGUMENT', `参数 ${spec.name} 超过 ${spec.max} 个字符`);
    if (spec.values && !spec.values.includes(value)) {
      throw new MapiError('ILLEGAL_ARGUMENT', `参数 ${spec.name} 只能是 ${spec.values.join(' / ')}`);
    }
    if (spec.url) checkUrl(spec.name, value, allowedDomains);
  }
}
