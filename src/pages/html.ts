/**
 * Server-rendered pages: plain HTML forms that work without JavaScript. `html` escapes
 * every interpolated value unless it is already `SafeHtml` (built by `html` itself).
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f8;color:#1f2329}
header{background:#1677ff;color:#fff;padding:12px 20px;font-weight:600}header a{color:#fff;text-decoration:none}
main{max-width:960px;margin:24px auto;padding:0 16px}.card{background:#fff;border-radius:8px;padding:20px;margin-bottom:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
label{display:block;margin:12px 0 4px}input,select,textarea{width:100%;padding:8px;border:1px solid #d0d3d9;border-radius:6px;font:inherit}
button{padding:8px 18px;border:0;border-radius:6px;background:#1677ff;color:#fff;font:inherit;cursor:pointer;margin:12px 8px 0 0}
button.secondary{background:#e8eaed;color:#1f2329}.error{color:#d4380d}.code{font-family:ui-monospace,Menlo,monospace;background:#f0f1f3;padding:1px 5px;border-radius:4px}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceef1;vertical-align:top;word-break:break-all}
pre{white-space:pre-wrap;word-break:break-all;background:#f0f1f3;padding:10px;border-radius:6px}
@media (max-width:600px){main{margin:12px auto}th,td{padding:4px}}
`;

/**
 * The page shell shared by every page (login, consent, portal, inbox, console). `head`:
 * extra elements for <head> (a page's own stylesheet, script or icon, served from 'self').
 */
export function page(title: string, body: SafeHtml, opts: { nav?: SafeHtml; head?: SafeHtml } = {}): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style>${opts.head?.value ?? ''}</head>
<body><header><a href="/">gatewaydo</a> · ${escapeHtml(title)}${opts.nav ? ' · ' + opts.nav.value : ''}</header><main>${body.value}</main></body></html>`;
}

/** Security headers for every HTML response: no framing, no sniffing, no inline script from elsewhere. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
  'cache-control': 'no-store',
};
