import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { createPartner, editPartner, findPartnerView, partnerView, type PartnerView } from '../../admin/accounts.ts';
import { html, type SafeHtml } from '../../pages/html.ts';
import { MAPI_SERVICES } from '../../services/names.ts';
import { listPartners } from '../../storage/repositories/partners.ts';
import type { Session } from '../../storage/repositories/sessions.ts';
import type { ConsoleForm } from '../form.ts';
import { asRefusal, consolePage, csrfField, doneNotice, keyBox, sendPage, table, type PageMessages } from '../layout.ts';
import { formOf, sessionOf } from '../session.ts';
import { partnerKeyUrl } from './keys.ts';

/** MAPI partners (PIDs): list, create (generated keys or uploaded public keys), edit services and domains. */
function partnerInput(f: ConsoleForm) {
  return {
    name: f.text('name'),
    md5_key: f.text('md5_key'),
    rsa_public_key: f.text('rsa_public_key'),
    dsa_public_key: f.text('dsa_public_key'),
    services: f.all('services'),
    allowed_domains: f.lines('allowed_domains'),
  };
}

type PartnerFormValues = Partial<Omit<PartnerView, 'services'>> & { services?: readonly string[] };

function keyUpload(name: string, label: string): SafeHtml {
  return html`<label for="${name}">${label}</label>
<textarea id="${name}" name="${name}" class="key" spellcheck="false" placeholder="-----BEGIN PUBLIC KEY----- … (or the bare base64)"></textarea>
<input type="file" accept=".pem,.txt,.key" data-into="${name}" aria-label="Read ${label} from a file" hidden>`;
}

function partnerFields(v: PartnerFormValues, creating: boolean): SafeHtml {
  return html`<div class="grid">
<div><label for="name">Name</label><input id="name" name="name" maxlength="64" value="${v.name ?? ''}"></div>
<div><label for="md5_key">MD5 key${creating ? ' (empty: generated)' : ''}</label><input id="md5_key" name="md5_key" maxlength="64" value="${v.md5_key ?? ''}" autocomplete="off"></div>
</div>
<fieldset><legend>Services granted</legend>${MAPI_SERVICES.map(
    (s) => html`<label class="check"><input type="checkbox" name="services" value="${s}"${v.services?.includes(s) ? html` checked` : ''}> ${s}</label>`,
  )}</fieldset>
<label for="allowed_domains">Allowed return_url / notify_url domains (one per line; none = any)</label>
<textarea id="allowed_domains" name="allowed_domains" rows="3">${(v.allowed_domains ?? []).join('\n')}</textarea>
${keyUpload('rsa_public_key', creating ? 'Partner RSA public key (optional: empty generates a pair)' : 'Replace the partner RSA public key (optional)')}
${keyUpload('dsa_public_key', creating ? 'Partner DSA public key (optional: empty generates a pair)' : 'Replace the partner DSA public key (optional)')}`;
}

async function listPage(ctx: GatewayContext, session: Session, msg: PageMessages, values: PartnerFormValues = { services: MAPI_SERVICES }): Promise<string> {
  const rows = (await listPartners(ctx.db)).map(partnerView).map(
    (p) => html`<tr><td><a href="/console/partners/${p.partner}">${p.partner}</a></td><td>${p.name}</td><td class="wrap">${p.services.join(', ')}</td><td class="wrap">${p.allowed_domains.join(', ') || 'any'}</td></tr>`,
  );
  const body = html`<section class="card"><h2>Partners</h2>${table(['partner (PID)', 'name', 'services', 'allowed domains'], rows)}</section>
<section class="card"><h2>Create a partner</h2><form method="post" action="/console/partners">${csrfField(session)}
${partnerFields(values, true)}<button>Create partner</button></form></section>`;
  return consolePage('Partners', session, body, { ...msg, current: '/console/partners' });
}

function detailPage(session: Session, p: PartnerView, msg: PageMessages): string {
  const key = (name: Parameters<typeof partnerKeyUrl>[0], label: string, value: string | null) => keyBox(name, label, value, partnerKeyUrl(name, p.partner));
  const body = html`<p><a href="/console/partners">← Partners</a></p>
<section class="card"><h2>Partner ${p.partner}</h2>
<dl class="kv"><dt>MD5 key</dt><dd><span class="code">${p.md5_key}</span></dd></dl>
<div class="grid"><div>
${key('partner_rsa_private_key', 'Partner RSA private key', p.rsa_private_key)}
${key('partner_rsa_public_key', 'Partner RSA public key', p.rsa_public_key)}
${key('alipay_rsa_public_key', 'Alipay RSA public key', p.alipay_rsa_public_key)}
</div><div>
${key('partner_dsa_private_key', 'Partner DSA private key', p.dsa_private_key)}
${key('partner_dsa_public_key', 'Partner DSA public key', p.dsa_public_key)}
${key('alipay_dsa_public_key', 'Alipay DSA public key', p.alipay_dsa_public_key)}
</div></div></section>
<section class="card"><h2>Settings</h2><form method="post" action="/console/partners/${p.partner}">${csrfField(session)}
${partnerFields(p, false)}<button>Save</button></form></section>`;
  return consolePage(`Partner ${p.partner}`, session, body, { ...msg, current: '/console/partners' });
}

const DONE = { created: 'Partner created.', saved: 'Saved.' };

export function registerPartners(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/partners', async (request, reply) => sendPage(reply, 200, await listPage(ctx, sessionOf(request), {})));

  c.post('/console/partners', async (request, reply) => {
    const input = partnerInput(formOf(request));
    try {
      const p = await createPartner(ctx, input);
      return reply.redirect(`/console/partners/${p.partner}?done=created`, 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), { error: refused.message }, input));
    }
  });

  c.get<{ Params: { partner: string } }>('/console/partners/:partner', async (request, reply) => {
    try {
      const p = await findPartnerView(ctx, request.params.partner);
      return sendPage(reply, 200, detailPage(sessionOf(request), p, { notice: doneNotice(request.query, DONE) }));
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), { error: refused.message }));
    }
  });

  c.post<{ Params: { partner: string } }>('/console/partners/:partner', async (request: FastifyRequest<{ Params: { partner: string } }>, reply: FastifyReply) => {
    const { partner } = request.params;
    try {
      await editPartner(ctx, partner, partnerInput(formOf(request)));
      return reply.redirect(`/console/partners/${partner}?done=saved`, 303);
    } catch (err) {
      const refused = asRefusal(err);
      if (refused.status === 404) return sendPage(reply, 404, await listPage(ctx, sessionOf(request), { error: refused.message }));
      return sendPage(reply, refused.status, detailPage(sessionOf(request), await findPartnerView(ctx, partner), { error: refused.message }));
    }
  });
}
