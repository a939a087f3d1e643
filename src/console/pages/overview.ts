import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { resetToSandbox } from '../../admin/sandbox.ts';
import { maskCertNo, maskMobile, maskName } from '../../domain/pii.ts';
import { html } from '../../pages/html.ts';
import { MAPI_SERVICES, OPENAPI_METHODS } from '../../services/names.ts';
import { findApp } from '../../storage/repositories/apps.ts';
import { listMembers } from '../../storage/repositories/members.ts';
import { findPartner } from '../../storage/repositories/partners.ts';
import { loadSpec } from '../../sandbox/seed.ts';
import { consolePage, csrfField, doneNotice, keyBox, sendPage, table } from '../layout.ts';
import { sessionOf, signIn } from '../session.ts';
import { appKeyUrl, partnerKeyUrl } from './keys.ts';

/**
 * The sandbox at a glance: where to point a client, with which ids and keys, the test
 * accounts (sandbox data, shown in clear to the signed-in admin only), and a reset.
 * Keys and flags come from the live rows, so a rotated key or an edited flag shows here.
 */
const yes = (v: boolean) => (v ? 'yes' : 'no');

export function registerOverview(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/', async (_request, reply) => reply.redirect('/console', 301));

  c.get('/console', async (request, reply) => {
    const session = sessionOf(request);
    const spec = await loadSpec(ctx);
    const app = spec?.apps[0] && (await findApp(ctx.db, spec.apps[0].app_id));
    const partner = spec?.partners[0] && (await findPartner(ctx.db, spec.partners[0].partner));
    const live = new Map((await listMembers(ctx.db, ctx.vault)).map((m) => [m.user_id, m]));
    const base = ctx.baseUrl();
    const gateway = `${base}/gateway.do`;

    const appCard = app
      ? html`<section class="card"><h2>OpenAPI app</h2>
<dl class="kv"><dt>Gateway URL</dt><dd><span class="code">${gateway}</span></dd>
<dt>app_id</dt><dd><span class="code">${app.app_id}</span> (<a href="/console/apps/${app.app_id}">edit</a>)</dd>
<dt>sign_type</dt><dd>${app.sign_type} (RSA2 = SHA256withRSA, RSA = SHA1withRSA; charset utf-8, gbk, gb2312)</dd>
<dt>methods</dt><dd>${app.methods.join(', ')}</dd></dl>
<h3>Keys</h3>
${keyBox('app_private_key', 'App private key (PKCS#1; sign requests with it)', app.app_private_key, appKeyUrl('app_private_key', app.app_id))}
${keyBox('app_public_key', 'App public key (the platform verifies your requests with it)', app.app_public_key, appKeyUrl('app_public_key', app.app_id))}
${keyBox('alipay_public_key', 'Alipay public key (verify responses and notifications with it)', app.platform_public_key, appKeyUrl('alipay_public_key', app.app_id))}
<h3>With the official Node SDK</h3>
<pre>import { AlipaySdk } from 'alipay-sdk';
const sdk = new AlipaySdk({
  appId: '${app.app_id}',
  privateKey: fs.readFileSync('${app.app_id}_app_private_key.pem', 'ascii'),
  alipayPublicKey: fs.readFileSync('${app.app_id}_alipay_public_key.pem', 'ascii'),
  gateway: '${gateway}',
});</pre></section>`
      : html`<section class="card"><h2>OpenAPI app</h2><p class="muted">The sandbox has no app.</p></section>`;

    const partnerCard = partner
      ? html`<section class="card"><h2>MAPI partner</h2>
<dl class="kv"><dt>Gateway URL</dt><dd><span class="code">${gateway}</span> (also <span class="code">${base}/cooperate/gateway.do</span>)</dd>
<dt>partner (PID)</dt><dd><span class="code">${partner.partner}</span> (<a href="/console/partners/${partner.partner}">edit</a>)</dd>
<dt>sign types</dt><dd>MD5, RSA (SHA1withRSA), DSA (SHA1withDSA); _input_charset utf-8 or gbk</dd>
<dt>MD5 key</dt><dd><span class="code">${partner.md5_key}</span></dd>
<dt>services</dt><dd>${partner.services.join(', ')}</dd></dl>
<h3>Keys</h3>
<div class="grid"><div>
${keyBox('partner_rsa_private_key', 'Partner RSA private key', partner.rsa_private_key, partnerKeyUrl('partner_rsa_private_key', partner.partner))}
${keyBox('partner_rsa_public_key', 'Partner RSA public key', partner.rsa_public_key, partnerKeyUrl('partner_rsa_public_key', partner.partner))}
${keyBox('alipay_rsa_public_key', 'Alipay RSA public key', partner.platform_rsa_public_key, partnerKeyUrl('alipay_rsa_public_key', partner.partner))}
</div><div>
${keyBox('partner_dsa_private_key', 'Partner DSA private key', partner.dsa_private_key, partnerKeyUrl('partner_dsa_private_key', partner.partner))}
${keyBox('partner_dsa_public_key', 'Partner DSA public key', partner.dsa_public_key, partnerKeyUrl('partner_dsa_public_key', partner.partner))}
${keyBox('alipay_dsa_public_key', 'Alipay DSA public key', partner.platform_dsa_public_key, partnerKeyUrl('alipay_dsa_public_key', partner.partner))}
</div></div></section>`
      : html`<section class="card"><h2>MAPI partner</h2><p class="muted">The sandbox has no partner.</p></section>`;

    const members = (spec?.members ?? []).map((m) => {
      const now = live.get(m.user_id);
      return html`<tr><td>${m.role}</td><td>${m.login_id}</td><td class="code">${m.password}</td><td>${m.user_id}</td><td>${maskName(m.name)}</td>
<td>${maskCertNo(m.cert_no)}</td><td>${maskMobile(m.mobile)}</td><td>${now ? yes(now.certified) : '—'}</td><td>${now ? yes(now.protected) : '—'}</td></tr>`;
    });
    const operators = (spec?.operators ?? []).map(
      (o) => html`<tr><td>${o.operator_type}</td><td>${o.login_id}</td><td class="code">${o.password}</td><td>${o.operator_id}</td><td>${o.operator_partner_id ?? ''}</td><td>${o.name}</td><td>${o.shop_ids.join(', ')}</td></tr>`,
    );

    const body = html`${appCard}${partnerCard}
<section class="card"><h2>Sandbox members</h2>
<p class="muted">Test accounts for the login and consent pages and for identity matching. Names, ID numbers and mobiles are masked; the <a href="/console/members?reveal=1">members page</a> and sandbox.json show them in clear.</p>
${table(['role', 'login', 'password', 'user_id', 'name', 'ID number', 'mobile', 'certified', 'protected'], members)}
<p><a href="/console/members">All members</a></p></section>
<section class="card"><h2>Koubei</h2>
<p>Merchant: ${(spec?.merchants ?? []).map((m) => html`<span class="code">${m.merchant_id}</span> ${m.name} `)}</p>
${table(['type', 'login', 'password', 'operator_id', 'partner id', 'name', 'shop_ids'], operators)}
<p>Operators sign in at the <a href="/koubei/portal">Koubei operator portal</a>, pick an app and are sent to its <span class="code">isv_url</span> with a fresh one-time <span class="code">code</span> for <span class="code">koubei.member.data.oauth.query</span>.
SMS notices to members' mobiles land in the <a href="/sandbox/sms">sandbox SMS inbox</a>.</p></section>
<section class="card"><h2>Headless MAPI completion (for CI)</h2>
<p>A test can finish a <span class="code">sns.account.bind</span> page flow without a browser: take the signed gateway URL your code would redirect the user to and post it, with the member who consents, to the admin API. It answers <span class="code">{ "return_url": …, "code": "T" }</span> (the signed redirect the browser would follow, or the error code) and queues the notification for <span class="code">notify_url</span>; <span class="code">"decision": "refuse"</span> declines.</p>
<pre>POST ${base}/admin/api/mapi/complete
Authorization: Bearer &lt;admin token&gt;
Content-Type: application/json

{ "url": "${gateway}?service=sns.account.bind&amp;partner=…&amp;sign=…", "login_id": "buyer@sandbox.gatewaydo", "decision": "agree" }</pre></section>
<section class="card"><h2>What is implemented</h2>
<dl class="kv"><dt>OpenAPI methods</dt><dd>${OPENAPI_METHODS.join(', ')}</dd>
<dt>MAPI services</dt><dd>${MAPI_SERVICES.join(', ')}, notify_verify</dd></dl>
<p class="muted">Anything else gets Alipay's own answer for an unknown method or service.</p></section>
<section class="card"><h2>Reset</h2><p>Back to the seeded sandbox: the same ids, keys and accounts; everything else (requests, notifications, faults, added apps and members) is removed.</p>
<form method="post" action="/console/reset" data-confirm="Reset the sandbox? All state is replaced.">${csrfField(session)}<button class="danger">Reset sandbox</button></form></section>`;
    return sendPage(reply, 200, consolePage('Overview', session, body, { current: '/console', notice: doneNotice(request.query, { reset: 'The sandbox was reset.' }) }));
  });

  c.post('/console/reset', async (request, reply) => {
    await resetToSandbox(ctx, {});
    // A reset empties the sessions table too: sign this admin in again.
    await signIn(ctx, request, reply);
    return reply.redirect('/console?done=reset', 303);
  });
}
