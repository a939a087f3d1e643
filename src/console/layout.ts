import type { FastifyReply } from 'fastify';
import { html, page, PAGE_HEADERS, SafeHtml } from '../pages/html.ts';
import type { Session } from '../storage/repositories/sessions.ts';
import { AdminError } from '../admin/validation.ts';
import { ASSET_PATHS } from './assets.ts';

/** The console's frame (navigation, sign-out, assets) and the small pieces its pages share. */
const NAV: Array<[string, string]> = [
  ['/console', 'Overview'],
  ['/console/apps', 'Apps'],
  ['/console/partners', 'Partners'],
  ['/console/members', 'Members'],
  ['/console/requests', 'Request log'],
  ['/console/notifications', 'Notifications'],
  ['/console/faults', 'Faults'],
];

export function csrfField(session: Session): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

function nav(session: Session, current: string): SafeHtml {
  return html`<nav class="console-nav" aria-label="Console">
${NAV.map(([href, label]) => html`<a href="${href}"${href === current ? html` aria-current="page"` : ''}>${label}</a>`)}
<a href="/koubei/portal">Koubei portal ↗</a><a href="/sandbox/sms">SMS inbox ↗</a>
<form method="post" action="/console/logout">${csrfField(session)}<button class="secondary">Sign out</button></form>
</nav>`;
}

export interface PageMessages {
  notice?: string;
  error?: string;
}

/** A console page: `current` is the nav entry to mark; the session is null only for sign-in. */
export function consolePage(title: string, session: Session | null, body: SafeHtml, opts: PageMessages & { current?: string } = {}): string {
  return page(
    `Console · ${title}`,
    html`${session ? nav(session, opts.current ?? '') : ''}
${opts.error ? html`<div class="error-box" role="alert">${opts.error}</div>` : ''}
${opts.notice ? html`<div class="notice" role="status">${opts.notice}</div>` : ''}
${body}`,
    { head: html`<link rel="icon" href="${ASSET_PATHS.icon}" type="image/svg+xml"><link rel="stylesheet" href="${ASSET_PATHS.css}"><script src="${ASSET_PATHS.js}" defer></script>` },
  );
}

export function messagePage(title: string, text: string, session: Session | null): string {
  return consolePage(title, session, html`<div class="card"><p>${text}</p><p><a href="/console">Back to the console</a></p></div>`);
}

export function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(body);
}

/** A table that scrolls sideways on narrow screens instead of squeezing its columns (`compact`: it may squeeze). */
export function table(head: string[], rows: SafeHtml[], empty = 'Nothing yet.', opts: { compact?: boolean } = {}): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="scroll"><table${opts.compact ? html` class="compact"` : ''}><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A key in a read-only textarea, with a copy button (script) and a .pem download link. */
export function keyBox(id: string, label: string, value: string | null, download?: string): SafeHtml {
  if (!value) return html`<label>${label}</label><p class="muted">Not kept here (the owner holds it).</p>`;
  return html`<label for="${id}">${label}</label><textarea id="${id}" class="key" readonly spellcheck="false">${value}</textarea>
<div class="key-actions"><button type="button" class="secondary" data-copy="${id}" hidden>Copy</button>${download ? html`<a href="${download}" download>Download .pem</a>` : ''}</div>`;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatLatency(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** The server's UTC offset, e.g. "UTC+08:00": console times are server-local. */
export function localZone(ms = Date.now()): string {
  const offset = -new Date(ms).getTimezoneOffset();
  const abs = Math.abs(offset);
  return `UTC${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Server-local time, as the time filters read it. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The notice for `?done=…` after a redirect (post/redirect/get). */
export function doneNotice(query: unknown, messages: Record<string, string>): string | undefined {
  const done = (query as { done?: unknown }).done;
  return typeof done === 'string' ? messages[done] : undefined;
}

/** An operation's refusal, to show on the page; anything else is a real failure and goes on up. */
export function asRefusal(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  throw err;
}
