import type { Diagnosis } from '../crypto/diagnose.ts';
import { MAPI_ERRORS, type MapiErrorCode } from '../gateway/mapi/errors.ts';
import { html, page } from './html.ts';

/**
 * The pages of the sns.account.bind flow: plain HTML forms (no script), Chinese UI, the
 * error code always visible so ISV developers and their browser tests can read it.
 */
const TYPE_LABELS: Record<string, string> = { seller: '卖家', buyer: '买家', common: '通用' };

function diagnosisTable(d: Diagnosis) {
  return html`<h3>签名诊断</h3><table>
<tr><th>网关生成的验签字符串</th><td><pre>${d.string_to_sign}</pre></td></tr>
<tr><th>字符集</th><td>${d.charset}</td></tr><tr><th>签名方式</th><td>${d.sign_type}</td></tr>
<tr><th>可能原因</th><td><span class="code">${d.cause}</span> ${d.detail}</td></tr></table>`;
}

/** Alipay's gateway error page: "调试错误…", the code, what it means, and why. */
export function errorPage(code: MapiErrorCode, detail?: string, diagnosis?: Diagnosis): string {
  return page(
    '支付宝 · 错误',
    html`<div class="card"><h2>调试错误，请回到请求来源地，重新发起请求。</h2>
<p>错误代码 <span class="code" id="error-code">${code}</span> ${MAPI_ERRORS[code]}</p>
${detail && detail !== diagnosis?.detail ? html`<p class="error">${detail}</p>` : ''}${diagnosis ? diagnosisTable(diagnosis) : ''}</div>`,
  );
}

export interface BindView {
  action: string;
  csrf: string;
  partnerName: string;
  snsUserId: string;
  snsUserName: string;
  type: string;
}

export function loginPage(v: BindView, opts: { loginId?: string; message?: string } = {}): string {
  return page(
    '登录支付宝',
    html`<div class="card"><h2>登录支付宝账户</h2>
<p>${v.partnerName} 请求将 SNS 账户 <strong>${v.snsUserName}</strong>（${v.snsUserId}）与您的支付宝账户绑定。</p>
${opts.message ? html`<p class="error" role="alert">${opts.message}</p>` : ''}
<form method="post" action="${v.action}/login" accept-charset="utf-8">
<input type="hidden" name="_csrf" value="${v.csrf}">
<label for="login_id">支付宝账户名</label><input id="login_id" name="login_id" autocomplete="username" required maxlength="100" value="${opts.loginId ?? ''}">
<label for="password">登录密码</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128">
<button type="submit">登录</button>
</form></div>`,
  );
}

export function consentPage(v: BindView, loginId: string): string {
  return page(
    '授权绑定',
    html`<div class="card"><h2>授权绑定支付宝账户</h2>
<table>
<tr><th>合作伙伴</th><td>${v.partnerName}</td></tr>
<tr><th>SNS 账户</th><td>${v.snsUserName}（<span class="code">${v.snsUserId}</span>）</td></tr>
<tr><th>绑定类型</th><td>${TYPE_LABELS[v.type] ?? v.type}（<span class="code">${v.type}</span>）</td></tr>
<tr><th>支付宝账户</th><td>${loginId}</td></tr>
</table>
<form method="post" action="${v.action}/decision" accept-charset="utf-8">
<input type="hidden" name="_csrf" value="${v.csrf}">
<button type="submit" name="decision" value="agree">同意绑定</button>
<button type="submit" name="decision" value="refuse" class="secondary">拒绝</button>
</form></div>`,
  );
}

/** The flow took longer than its TTL: the button takes the result (SESSION_TIMEOUT) back to the ISV. */
export function timeoutPage(v: BindView): string {
  return page(
    '登录超时',
    html`<div class="card"><h2>页面已超时</h2>
<p>错误代码 <span class="code" id="error-code">SESSION_TIMEOUT</span> ${MAPI_ERRORS.SESSION_TIMEOUT}</p>
<form method="post" action="${v.action}/decision" accept-charset="utf-8">
<input type="hidden" name="_csrf" value="${v.csrf}">
<button type="submit">返回 ${v.partnerName}</button>
</form></div>`,
  );
}

/** Anything that is not a gateway code: an expired form, a request we do not know. */
export function messagePage(title: string, message: string): string {
  return page(title, html`<div class="card"><h2>${title}</h2><p>${message}</p></div>`);
}
