import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { addFaultRule, removeFaultRule } from '../../admin/faults.ts';
import { html } from '../../pages/html.ts';
import { MAPI_SERVICES, OPENAPI_METHODS } from '../../services/names.ts';
import { listFaults } from '../../storage/repositories/faults.ts';
import type { Session } from '../../storage/repositories/sessions.ts';
import { asRefusal, consolePage, csrfField, doneNotice, formatTime, sendPage, table, type PageMessages } from '../layout.ts';
import { formOf, sessionOf } from '../session.ts';

/** Fault injection: rules that make the next N calls (or a share of calls) fail or slow down. */
type FaultFormValues = Partial<Record<'target' | 'code' | 'sub_code' | 'sub_msg' | 'latency_ms' | 'count' | 'probability', string>>;

async function faultsPage(ctx: GatewayContext, session: Session, msg: PageMessages, v: FaultFormValues = {}): Promise<string> {
  const rows = (await listFaults(ctx.db)).map(
    (r) => html`<tr><td>${r.id}</td><td>${r.target}</td><td>${r.code ?? ''}</td><td>${r.sub_code ?? ''}</td><td class="wrap">${r.sub_msg ?? ''}</td><td>${r.latency_ms} ms</td>
<td>${r.remaining ?? 'every call'}</td><td>${r.probability === null ? '100%' : `${Math.round(r.probability * 1000) / 10}%`}</td><td>${formatTime(r.created_at)}</td>
<td><form method="post" action="/console/faults/${r.id}/delete" class="inline">${csrfField(session)}<button class="small danger" aria-label="Delete rule ${r.id}">Delete</button></form></td></tr>`,
  );
  const targets = ['*', ...OPENAPI_METHODS, ...MAPI_SERVICES];
  const body = html`<section class="card"><h2>Fault rules</h2>
<p class="muted">A matching call gets the rule's answer — signed and shaped like a real one — or is delayed by its latency. Rules with a count are removed when used up.</p>
${table(['id', 'target', 'code', 'sub_code', 'sub_msg', 'latency', 'calls left', 'share', 'created', ''], rows, 'No fault rules: every call behaves normally.')}</section>
<section class="card"><h2>Add a rule</h2><form method="post" action="/console/faults">${csrfField(session)}
<div class="grid">
<div><label for="target">Method or service (* = all)</label><input id="target" name="target" list="targets" required maxlength="128" value="${v.target ?? ''}"></div>
<div><label for="code">Gateway code</label><input id="code" name="code" inputmode="numeric" maxlength="5" placeholder="e.g. 20000 or 40004" value="${v.code ?? ''}"></div>
<div><label for="sub_code">sub_code</label><input id="sub_code" name="sub_code" maxlength="64" placeholder="e.g. SYSTEM_ERROR, isp.unknow-error" value="${v.sub_code ?? ''}"></div>
<div><label for="sub_msg">sub_msg</label><input id="sub_msg" name="sub_msg" maxlength="256" placeholder="e.g. 系统繁忙" value="${v.sub_msg ?? ''}"></div>
<div><label for="latency_ms">Added latency (ms)</label><input id="latency_ms" name="latency_ms" type="number" min="0" max="60000" value="${v.latency_ms ?? ''}"></div>
<div><label for="count">For the next N calls (empty: until deleted)</label><input id="count" name="count" type="number" min="1" value="${v.count ?? ''}"></div>
<div><label for="probability">Share of calls (0–1, empty: all)</label><input id="probability" name="probability" type="number" min="0" max="1" step="any" value="${v.probability ?? ''}"></div>
</div>
<datalist id="targets">${targets.map((t) => html`<option value="${t}">`)}</datalist>
<button>Add rule</button></form></section>`;
  return consolePage('Faults', session, body, { ...msg, current: '/console/faults' });
}

const DONE = { added: 'Rule added: the next matching call gets it.', deleted: 'Rule deleted.' };

export function registerFaults(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/faults', async (request, reply) => sendPage(reply, 200, await faultsPage(ctx, sessionOf(request), { notice: doneNotice(request.query, DONE) })));

  c.post('/console/faults', async (request, reply) => {
    const f = formOf(request);
    try {
      await addFaultRule(ctx, {
        target: f.text('target'),
        code: f.text('code'),
        sub_code: f.text('sub_code'),
        sub_msg: f.text('sub_msg'),
        latency_ms: f.number('latency_ms'),
        count: f.number('count'),
        probability: f.number('probability'),
      });
      return reply.redirect('/console/faults?done=added', 303);
    } catch (err) {
      const refused = asRefusal(err);
      const values = Object.fromEntries(['target', 'code', 'sub_code', 'sub_msg', 'latency_ms', 'count', 'probability'].map((k) => [k, f.text(k)]));
      return sendPage(reply, refused.status, await faultsPage(ctx, sessionOf(request), { error: refused.message }, values));
    }
  });

  c.post<{ Params: { id: string } }>('/console/faults/:id/delete', async (request, reply) => {
    try {
      await removeFaultRule(ctx, request.params.id);
      return reply.redirect('/console/faults?done=deleted', 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await faultsPage(ctx, sessionOf(request), { error: refused.message }));
    }
  });
}
