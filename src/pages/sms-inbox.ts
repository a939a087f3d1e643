import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { beijingTime } from '../domain/ids.ts';
import { listSms } from '../storage/repositories/sms.ts';
import { html, page, PAGE_HEADERS } from './html.ts';

/** GET /sandbox/sms: the SMS notices the sandbox "sent", newest first, mobiles masked. */
export function registerSmsInbox(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/sandbox/sms', async (_request, reply) => {
    const notices = await listSms(ctx.db, 200);
    const body = html`<div class="card"><h2>沙箱短信收件箱</h2>
<p>沙箱不发送真实短信；发给会员手机的通知显示在这里（手机号已脱敏）。</p>
${notices.length === 0 ? html`<p>还没有短信。</p>` : html`<table><tr><th>时间（北京）</th><th>手机号</th><th>会员</th><th>内容</th></tr>
${notices.map((n) => html`<tr><td>${beijingTime(n.created_at)}</td><td class="code">${n.mobile_masked}</td><td class="code">${n.user_id}</td><td>${n.content}</td></tr>`)}</table>`}
</div>`;
    return reply.code(200).headers(PAGE_HEADERS).send(page('短信收件箱', body));
  });
}
