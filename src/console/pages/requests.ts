import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { findRequest, findRequests } from '../../admin/requests.ts';
import { html, type SafeHtml } from '../../pages/html.ts';
import { MAPI_SERVICES, OPENAPI_METHODS } from '../../services/names.ts';
import { listApps } from '../../storage/repositories/apps.ts';
import { listPartners } from '../../storage/repositories/partners.ts';
import type { LoggedRequest } from '../../storage/repositories/request-log.ts';
import { asRefusal, consolePage, formatLatency, formatTime, localZone, sendPage, table } from '../layout.ts';
import { sessionOf } from '../session.ts';

/**
 * The request log: every gateway request, newest first, filterable; a detail view with the
 * (masked) parameters, the answer, the latency and — for a signature failure — the
 * diagnosis: the string we verified, the charset, the sign type and the likely cause.
 */
type Filters = Record<'caller' | 'method' | 'code' | 'since' | 'until' | 'limit', string>;

const FILTER_NAMES = ['caller', 'method', 'code', 'since', 'until', 'limit'] as const;

function filtersOf(query: unknown): Filters {
  const q = query as Record<string, unknown>;
  return Object.fromEntries(FILTER_NAMES.map((k) => [k, typeof q[k] === 'string' ? (q[k] as string) : ''])) as Filters;
}

// OpenAPI success, MAPI page success, notify_verify's yes.
const SUCCESS = new Set(['10000', 'T', 'true']);

function result(e: Pick<LoggedRequest, 'code' | 'sub_code'>): SafeHtml {
  if (e.code === null) return html`<span class="muted">—</span>`;
  const cls = SUCCESS.has(e.code) ? 'ok' : 'fail';
  return html`<span class="${cls}">${e.code}</span>${e.sub_code ? html` <span class="${cls}">${e.sub_code}</span>` : ''}`;
}

async function filterForm(ctx: GatewayContext, f: Filters): Promise<SafeHtml> {
  const callers = [...(await listApps(ctx.db)).map((a) => a.app_id), ...(await listPartners(ctx.db)).map((p) => p.partner)];
  const names = [...OPENAPI_METHODS, ...MAPI_SERVICES, 'notify_verify'];
  return html`<form method="get" action="/console/requests" class="filters"><div class="grid">
<div><label for="caller">App or partner</label><input id="caller" name="caller" list="callers" value="${f.caller}" placeholder="app_id or PID"></div>
<div><label for="method">Method or service</label><input id="method" name="method" list="methods" value="${f.method}"></div>
<div><label for="code">Result code or sub_code</label><input id="code" name="code" value="${f.code}" placeholder="e.g. 40002, isv.invalid-signature"></div>
<div><label for="since">From (${localZone()})</label><input id="since" name="since" type="datetime-local" step="1" value="${f.since}"></div>
<div><label for="until">To (${localZone()})</label><input id="until" name="until" type="datetime-local" step="1" value="${f.until}"></div>
<div><label for="limit">At most</label><input id="limit" name="limit" type="number" min="1" max="1000" value="${f.limit}" placeholder="100"></div>
</div>
<datalist id="callers">${callers.map((c) => html`<option value="${c}">`)}</datalist>
<datalist id="methods">${names.map((m) => html`<option value="${m}">`)}</datalist>
<button>Filter</button><a href="/console/requests">Clear</a></form>`;
}

/** A signature diagnosis in full; for other refusals (or injected faults) the developer-facing detail. */
function diagnosisCard(d: unknown): SafeHtml {
  if (!d || typeof d !== 'object') return html``;
  const diag = d as Record<string, unknown>;
  if (typeof diag.string_to_sign !== 'string') {
    return html`<section class="card" id="diagnosis"><h2>Why</h2><p>${diag.detail ?? JSON.stringify(diag)}</p></section>`;
  }
  return html`<section class="card" id="diagnosis"><h2>Signature diagnosis</h2>
<dl class="kv"><dt>Likely cause</dt><dd class="fail"><strong>${diag.cause}</strong></dd>
<dt>Detail</dt><dd>${diag.detail}</dd>
<dt>sign_type</dt><dd>${diag.sign_type}</dd>
<dt>charset</dt><dd>${diag.charset}</dd></dl>
<h3>String to sign (as the gateway computed it)</h3><pre class="string-to-sign">${diag.string_to_sign}</pre>
<p class="muted">Sign exactly these bytes (in the charset above) with your private key, and compare them with the string your code signed.</p></section>`;
}

function detailPage(e: LoggedRequest): SafeHtml {
  const params = Object.entries(e.params).map(([k, v]) => html`<tr><td>${k}</td><td class="wrap">${v}</td></tr>`);
  return html`<p><a href="/console/requests">← Request log</a></p>
<section class="card"><h2>Request #${e.id}</h2>
<dl class="kv"><dt>Time</dt><dd>${formatTime(e.at)} (${localZone(e.at)})</dd><dt>trace_id</dt><dd>${e.trace_id}</dd>
<dt>Gateway</dt><dd>${e.gateway} (${e.http_method})</dd><dt>Caller</dt><dd>${e.caller ?? ''}</dd>
<dt>Method / service</dt><dd>${e.method ?? ''}</dd><dt>Result</dt><dd>${result(e)}</dd>
<dt>Latency</dt><dd>${formatLatency(e.latency_ms)}</dd></dl></section>
${diagnosisCard(e.diagnosis)}
<section class="card"><h2>Parameters</h2><p class="muted">Personal data (names, ID numbers, mobiles) is masked before it is stored.</p>
${table(['name', 'value'], params, 'No parameters.', { compact: true })}</section>
<section class="card"><h2>Response</h2>${e.response === null ? html`<p class="muted">None recorded.</p>` : html`<pre>${e.response}</pre>`}</section>`;
}

export function registerRequestLog(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/requests', async (request, reply) => {
    const session = sessionOf(request);
    const f = filtersOf(request.query);
    let entries: LoggedRequest[] = [];
    let error: string | undefined;
    try {
      entries = await findRequests(ctx, f);
    } catch (err) {
      error = asRefusal(err).message;
    }
    const rows = entries.map(
      (e) => html`<tr><td><a href="/console/requests/${e.id}">${formatTime(e.at)}</a></td><td>${e.gateway}</td><td>${e.caller ?? ''}</td><td>${e.method ?? ''}</td><td>${result(e)}</td><td>${formatLatency(e.latency_ms)}</td><td>${e.diagnosis ? html`<a href="/console/requests/${e.id}#diagnosis">why</a>` : ''}</td></tr>`,
    );
    const body = html`<section class="card"><h2>Request log</h2>${await filterForm(ctx, f)}</section>
<section class="card">${table([`time (${localZone()})`, 'gateway', 'caller', 'method / service', 'result', 'latency', ''], rows, 'No requests match.')}
<p class="muted">Newest first. The log keeps the newest ${ctx.config.requestLogRetention} requests.</p></section>`;
    return sendPage(reply, error ? 400 : 200, consolePage('Request log', session, body, { current: '/console/requests', error }));
  });

  c.get<{ Params: { id: string } }>('/console/requests/:id', async (request, reply) => {
    const session = sessionOf(request);
    try {
      const entry = await findRequest(ctx, request.params.id);
      return sendPage(reply, 200, consolePage(`Request #${entry.id}`, session, detailPage(entry), { current: '/console/requests' }));
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, consolePage('Request log', session, html`<p><a href="/console/requests">← Request log</a></p>`, { current: '/console/requests', error: refused.message }));
    }
  });
}
