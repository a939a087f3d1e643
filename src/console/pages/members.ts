import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { createMember, setMemberFlags } from '../../admin/accounts.ts';
import { maskCertNo, maskMobile, maskName } from '../../domain/pii.ts';
import { html } from '../../pages/html.ts';
import { listMembers } from '../../storage/repositories/members.ts';
import type { Session } from '../../storage/repositories/sessions.ts';
import { asRefusal, consolePage, csrfField, doneNotice, formatTime, sendPage, table, type PageMessages } from '../layout.ts';
import { formOf, sessionOf } from '../session.ts';

/**
 * Members: identity data masked unless the admin asks to see it (`?reveal=1`); create;
 * mark certified / protected.
 */
interface MemberFormValues {
  login_id?: string;
  name?: string;
  cert_no?: string;
  mobile?: string;
  certified?: boolean;
  protected?: boolean;
}

async function listPage(ctx: GatewayContext, session: Session, reveal: boolean, msg: PageMessages, values: MemberFormValues = { certified: true }): Promise<string> {
  const show = (v: string, mask: (v: string) => string) => (reveal ? v : mask(v));
  const rows = (await listMembers(ctx.db, ctx.vault)).map(
    (m) => html`<tr><td>${m.user_id}</td><td>${m.login_id}</td><td>${show(m.name, maskName)}</td><td>${show(m.cert_no, maskCertNo)}</td><td>${show(m.mobile, maskMobile)}</td>
<td><form method="post" action="/console/members/${m.user_id}" class="row-form">${csrfField(session)}
<label class="check"><input type="checkbox" name="certified"${m.certified ? html` checked` : ''}> certified</label>
<label class="check"><input type="checkbox" name="protected"${m.protected ? html` checked` : ''}> protected</label>
<button class="small" aria-label="Save flags of ${m.login_id}">Save</button></form></td><td>${formatTime(m.created_at)}</td></tr>`,
  );
  const check = (name: 'certified' | 'protected', label: string) =>
    html`<label class="check"><input type="checkbox" name="${name}"${values[name] ? html` checked` : ''}> ${label}</label>`;
  const body = html`<section class="card"><h2>Members</h2>
<p>${reveal ? html`Identity data shown in clear. <a href="/console/members">Mask it</a>` : html`Names, ID numbers and mobiles are masked. <a href="/console/members?reveal=1">Show them</a>`}</p>
${table(['user_id', 'login', 'name', 'ID number', 'mobile', 'flags', 'created'], rows)}</section>
<section class="card"><h2>Create a member</h2><form method="post" action="/console/members">${csrfField(session)}
<div class="grid">
<div><label for="login_id">Login (email or mobile)</label><input id="login_id" name="login_id" required maxlength="100" value="${values.login_id ?? ''}"></div>
<div><label for="password">Password (6+ characters)</label><input id="password" name="password" type="password" required minlength="6" maxlength="128" autocomplete="new-password"></div>
<div><label for="name">Name</label><input id="name" name="name" required maxlength="16" value="${values.name ?? ''}"></div>
<div><label for="cert_no">ID number (18 characters, valid check digit)</label><input id="cert_no" name="cert_no" required maxlength="18" value="${values.cert_no ?? ''}"></div>
<div><label for="mobile">Mobile</label><input id="mobile" name="mobile" required inputmode="numeric" maxlength="11" value="${values.mobile ?? ''}"></div>
</div>
${check('certified', 'real-name certified')}${check('protected', 'account protected (binding refused: BIND_ERROR_ACCOUNT_PROTECTED)')}
<button>Create member</button></form></section>`;
  return consolePage('Members', session, body, { ...msg, current: '/console/members' });
}

const DONE = { created: 'Member created.', saved: 'Saved.' };

export function registerMembers(c: FastifyInstance, ctx: GatewayContext): void {
  c.get<{ Querystring: { reveal?: string } }>('/console/members', async (request, reply) =>
    sendPage(reply, 200, await listPage(ctx, sessionOf(request), request.query.reveal === '1', { notice: doneNotice(request.query, DONE) })),
  );

  c.post('/console/members', async (request, reply) => {
    const f = formOf(request);
    const input = {
      login_id: f.text('login_id'),
      password: f.raw('password'),
      name: f.text('name'),
      cert_no: f.text('cert_no')?.toUpperCase(),
      mobile: f.text('mobile'),
      certified: f.flag('certified'),
      protected: f.flag('protected'),
    };
    try {
      await createMember(ctx, input);
      return reply.redirect('/console/members?done=created', 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), false, { error: refused.message }, input));
    }
  });

  c.post<{ Params: { user_id: string } }>('/console/members/:user_id', async (request, reply) => {
    const f = formOf(request);
    try {
      await setMemberFlags(ctx, request.params.user_id, { certified: f.flag('certified'), protected: f.flag('protected') });
      return reply.redirect('/console/members?done=saved', 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), false, { error: refused.message }));
    }
  });
}
