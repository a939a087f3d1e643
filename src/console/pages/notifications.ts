import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { html, type SafeHtml } from '../../pages/html.ts';
import { resendNotification } from '../../admin/mapi-admin.ts';
import { listNotifications, type NotificationView } from '../../storage/repositories/notifications.ts';
import type { Session } from '../../storage/repositories/sessions.ts';
import { asRefusal, consolePage, csrfField, doneNotice, formatTime, sendPage, table, type PageMessages } from '../layout.ts';
import { sessionOf } from '../session.ts';

/** Notifications to ISVs' notify_url: state, every attempt, the next retry; resend now. */
function notificationCard(session: Session, n: NotificationView): SafeHtml {
  const attempts = n.attempt_log.map(
    (a) => html`<tr><td>${formatTime(a.at)}</td><td>${a.http_status ?? ''}</td><td class="wrap">${a.body_excerpt ?? ''}</td><td class="wrap">${a.error ?? ''}</td></tr>`,
  );
  const stateClass = n.state === 'delivered' ? 'ok' : n.state === 'failed' ? 'fail' : '';
  return html`<article class="card notification" id="notification-${n.id}"><h2>#${n.id} <span class="${stateClass}">${n.state}</span></h2>
<dl class="kv"><dt>notify_id</dt><dd>${n.notify_id}</dd><dt>For</dt><dd>${n.gateway} ${n.owner}</dd><dt>URL</dt><dd>${n.url}</dd>
<dt>Created</dt><dd>${formatTime(n.created_at)}</dd><dt>Attempts</dt><dd>${n.attempts}${n.last_status ? ` (last: ${n.last_status})` : ''}</dd>
${n.state === 'pending' ? html`<dt>Next attempt</dt><dd>${formatTime(n.next_attempt_at)}</dd>` : ''}
${n.delivered_at ? html`<dt>Delivered</dt><dd>${formatTime(n.delivered_at)}</dd>` : ''}</dl>
<details><summary>Body posted (${n.charset})</summary><pre>${n.body}</pre></details>
<h3>Attempts</h3>${table(['time', 'HTTP status', 'answer (excerpt)', 'error'], attempts, 'Not attempted yet.')}
<form method="post" action="/console/notifications/${n.id}/resend">${csrfField(session)}<button class="secondary">Resend now</button></form></article>`;
}

async function notificationsPage(ctx: GatewayContext, session: Session, msg: PageMessages): Promise<string> {
  const list = await listNotifications(ctx.db);
  const body = html`<section class="card"><h2>Notifications</h2>
<p class="muted">Posted to each notify_url until it answers exactly <span class="code">success</span>, on Alipay's retry schedule. Newest first.</p>
${list.length === 0 ? html`<p class="muted">No notifications yet.</p>` : ''}</section>
${list.map((n) => notificationCard(session, n))}`;
  return consolePage('Notifications', session, body, { ...msg, current: '/console/notifications' });
}

export function registerNotifications(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/notifications', async (request, reply) =>
    sendPage(reply, 200, await notificationsPage(ctx, sessionOf(request), { notice: doneNotice(request.query, { resent: 'Queued: it is sent again right away.' }) })),
  );

  c.post<{ Params: { id: string } }>('/console/notifications/:id/resend', async (request, reply) => {
    try {
      const id = await resendNotification(ctx, request.params.id);
      return reply.redirect(`/console/notifications?done=resent#notification-${id}`, 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await notificationsPage(ctx, sessionOf(request), { error: refused.message }));
    }
  });
}
