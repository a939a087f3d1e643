/**
 * Old MAPI's answer to a server-to-server call: `<alipay><is_success>T</is_success></alipay>`,
 * or `F` with `<error>CODE</error>`. Codes are upper-case names, nothing to escape.
 */
export function mapiXml(code: string): string {
  const inner = code === 'T' ? '<is_success>T</is_success>' : `<is_success>F</is_success><error>${code}</error>`;
  return `<?xml version="1.0" encoding="utf-8"?>\n<alipay>${inner}</alipay>`;
}
