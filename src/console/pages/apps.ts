import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { appView, createApp, editApp, findAppView, rotatePlatformKey, SIGN_TYPES, TOKEN_POLICIES, type AppView } from '../../admin/accounts.ts';
import { html, type SafeHtml } from '../../pages/html.ts';
import { OPENAPI_METHODS } from '../../services/names.ts';
import { listApps } from '../../storage/repositories/apps.ts';
import type { Session } from '../../storage/repositories/sessions.ts';
import type { ConsoleForm } from '../form.ts';
import { asRefusal, consolePage, csrfField, doneNotice, keyBox, sendPage, table, type PageMessages } from '../layout.ts';
import { formOf, sessionOf } from '../session.ts';
import { appKeyUrl } from './keys.ts';

/** OpenAPI apps: list, create (generated pair or uploaded public key), edit, rotate the platform key. */
function appInput(f: ConsoleForm) {
  return {
    name: f.text('name'),
    sign_type: f.text('sign_type'),
    app_public_key: f.text('app_public_key'),
    methods: f.all('methods'),
    provider_id: f.text('provider_id'),
    isv_url: f.text('isv_url'),
    auth_code_ttl_seconds: f.number('auth_code_ttl_seconds'),
    token_policy: f.text('token_policy'),
    access_token_ttl_seconds: f.number('access_token_ttl_seconds'),
    refresh_token_ttl_seconds: f.number('refresh_token_ttl_seconds'),
  };
}

type AppFormValues = Partial<Omit<AppView, 'methods'>> & { methods?: readonly string[] };

const NEW_APP: AppFormValues = { sign_type: 'RSA2', methods: OPENAPI_METHODS, token_policy: 'expiring', auth_code_ttl_seconds: 600 };

function appFields(v: AppFormValues, keyLabel: string): SafeHtml {
  const options = (all: readonly string[], chosen: string | undefined) => all.map((o) => html`<option${o === chosen ? html` selected` : ''}>${o}</option>`);
  return html`<div class="grid">
<div><label for="name">Name</label><input id="name" name="name" maxlength="64" value="${v.name ?? ''}"></div>
<div><label for="sign_type">Sign type</label><select id="sign_type" name="sign_type">${options(SIGN_TYPES, v.sign_type)}</select></div>
<div><label for="isv_url">ISV page (isv_url, where the Koubei portal sends operators)</label><input id="isv_url" name="isv_url" maxlength="512" value="${v.isv_url ?? ''}"></div>
<div><label for="provider_id">Provider PID (服务商)</label><input id="provider_id" name="provider_id" inputmode="numeric" value="${v.provider_id ?? ''}"></div>
<div><label for="auth_code_ttl_seconds">Auth-code TTL (seconds, 180–86400)</label><input id="auth_code_ttl_seconds" name="auth_code_ttl_seconds" type="number" min="180" max="86400" value="${v.auth_code_ttl_seconds ?? ''}"></div>
<div><label for="token_policy">Token policy</label><select id="token_policy" name="token_policy">${options(TOKEN_POLICIES, v.token_policy)}</select></div>
<div><label for="access_token_ttl_seconds">access_token TTL (seconds)</label><input id="access_token_ttl_seconds" name="access_token_ttl_seconds" type="number" min="1" value="${v.access_token_ttl_seconds ?? ''}"></div>
<div><label for="refresh_token_ttl_seconds">refresh_token TTL (seconds)</label><input id="refresh_token_ttl_seconds" name="refresh_token_ttl_seconds" type="number" min="1" value="${v.refresh_token_ttl_seconds ?? ''}"></div>
</div>
<fieldset><legend>Methods granted</legend>${OPENAPI_METHODS.map(
    (m) => html`<label class="check"><input type="checkbox" name="methods" value="${m}"${v.methods?.includes(m) ? html` checked` : ''}> ${m}</label>`,
  )}</fieldset>
<label for="app_public_key">${keyLabel}</label>
<textarea id="app_public_key" name="app_public_key" class="key" spellcheck="false" placeholder="-----BEGIN PUBLIC KEY----- … (or the bare base64)"></textarea>
<input type="file" accept=".pem,.txt,.key" data-into="app_public_key" aria-label="Read the public key from a file" hidden>`;
}

async function listPage(ctx: GatewayContext, session: Session, msg: PageMessages, values: AppFormValues = NEW_APP): Promise<string> {
  const apps = (await listApps(ctx.db)).map(appView);
  const rows = apps.map(
    (a) => html`<tr><td><a href="/console/apps/${a.app_id}">${a.app_id}</a></td><td>${a.name}</td><td>${a.sign_type}</td><td class="wrap">${a.methods.join(', ')}</td><td>${a.auth_code_ttl_seconds}s</td><td>${a.token_policy}</td><td>${a.app_private_key ? 'generated' : 'uploaded'}</td></tr>`,
  );
  const body = html`<section class="card"><h2>Apps</h2>${table(['app_id', 'name', 'sign type', 'methods', 'auth-code TTL', 'tokens', 'app key'], rows)}</section>
<section class="card"><h2>Create an app</h2><form method="post" action="/console/apps">${csrfField(session)}
${appFields(values, 'App public key (optional: leave empty to generate a key pair)')}
<button>Create app</button></form></section>`;
  return consolePage('Apps', session, body, { ...msg, current: '/console/apps' });
}

function detailPage(session: Session, app: AppView, msg: PageMessages): string {
  const body = html`<p><a href="/console/apps">← Apps</a></p>
<section class="card"><h2>App ${app.app_id}</h2>
${keyBox('app_private_key', 'App private key (PKCS#1)', app.app_private_key, appKeyUrl('app_private_key', app.app_id))}
${keyBox('app_public_key', 'App public key', app.app_public_key, appKeyUrl('app_public_key', app.app_id))}
${keyBox('alipay_public_key', 'Alipay public key (platform key for this app)', app.alipay_public_key, appKeyUrl('alipay_public_key', app.app_id))}
<form method="post" action="/console/apps/${app.app_id}/rotate-platform-key" data-confirm="Rotate the platform key? Clients must take the new Alipay public key.">${csrfField(session)}
<button class="secondary">Rotate platform key</button></form></section>
<section class="card"><h2>Settings</h2><form method="post" action="/console/apps/${app.app_id}">${csrfField(session)}
${appFields(app, 'Replace the app public key (optional; the private key is then the ISV\u2019s alone)')}
<button>Save</button></form></section>`;
  return consolePage(`App ${app.app_id}`, session, body, { ...msg, current: '/console/apps' });
}

const DONE = { created: 'App created.', saved: 'Saved.', rotated: 'New platform key pair: answers are signed with it from now on.' };

export function registerApps(c: FastifyInstance, ctx: GatewayContext): void {
  c.get('/console/apps', async (request, reply) => sendPage(reply, 200, await listPage(ctx, sessionOf(request), {})));

  c.post('/console/apps', async (request, reply) => {
    const input = appInput(formOf(request));
    try {
      const app = await createApp(ctx, input);
      return reply.redirect(`/console/apps/${app.app_id}?done=created`, 303);
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), { error: refused.message }, input));
    }
  });

  c.get<{ Params: { app_id: string } }>('/console/apps/:app_id', async (request, reply) => {
    try {
      const app = await findAppView(ctx, request.params.app_id);
      return sendPage(reply, 200, detailPage(sessionOf(request), app, { notice: doneNotice(request.query, DONE) }));
    } catch (err) {
      const refused = asRefusal(err);
      return sendPage(reply, refused.status, await listPage(ctx, sessionOf(request), { error: refused.message }));
    }
  });

  const change = (work: (appId: string, form: ConsoleForm) => Promise<unknown>, done: keyof typeof DONE) =>
    async (request: FastifyRequest<{ Params: { app_id: string } }>, reply: FastifyReply) => {
      const { app_id } = request.params;
      try {
        await work(app_id, formOf(request));
        return reply.redirect(`/console/apps/${app_id}?done=${done}`, 303);
      } catch (err) {
        const refused = asRefusal(err);
        if (refused.status === 404) return sendPage(reply, 404, await listPage(ctx, sessionOf(request), { error: refused.message }));
        return sendPage(reply, refused.status, detailPage(sessionOf(request), await findAppView(ctx, app_id), { error: refused.message }));
      }
    };
  c.post('/console/apps/:app_id', change((appId, form) => editApp(ctx, appId, appInput(form)), 'saved'));
  c.post('/console/apps/:app_id/rotate-platform-key', change((appId) => rotatePlatformKey(ctx, appId), 'rotated'));
}
