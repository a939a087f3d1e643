import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { listApps } from '../storage/repositories/apps.ts';
import { listMembers } from '../storage/repositories/members.ts';
import { listPartners } from '../storage/repositories/partners.ts';
import { listMerchants, listOperators } from '../storage/repositories/koubei.ts';
import { loadSpec, sandboxView } from '../sandbox/seed.ts';
import { requireAdmin } from './auth.ts';
import { AdminError } from './validation.ts';
import { registerFaultRoutes } from './faults.ts';
import { registerOpenApiAdminRoutes } from './openapi-admin.ts';
import { registerMapiAdminRoutes } from './mapi-admin.ts';
import { registerRequestLogRoutes } from './requests.ts';
import { appView, createApp, createMember, createPartner, editApp, editPartner, partnerView, rotatePlatformKey, setMemberFlags } from './accounts.ts';
import { resetToSandbox } from './sandbox.ts';

export async function adminToken(ctx: GatewayContext): Promise<string> {
  return ctx.config.adminToken ?? (await loadSpec(ctx))?.admin_token ?? '';
}

/**
 * The admin API: thin routes over the operations in accounts.ts, faults.ts, requests.ts,
 * sandbox.ts — the same ones the console calls. A refused operation (AdminError) is
 * answered as `{ error, message }` with its status.
 */
export async function registerAdminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  let token = await adminToken(ctx);
  await app.register(async (admin) => {
    admin.addHook('preHandler', requireAdmin(() => token));
    admin.setErrorHandler((err, _request, reply) => {
      if (!(err instanceof AdminError)) throw err; // the server's handler answers the rest
      return reply.code(err.status).send({ error: err.code, message: err.message });
    });

    admin.get('/sandbox', async () => {
      const spec = await loadSpec(ctx);
      return spec ? sandboxView(ctx, spec) : {};
    });

    admin.post('/reset', async (request) => {
      const view = await resetToSandbox(ctx, request.body);
      token = view.admin_token;
      return view;
    });

    admin.get('/members', async () => listMembers(ctx.db, ctx.vault));
    admin.post('/members', async (request, reply) => reply.code(201).send(await createMember(ctx, request.body)));
    admin.patch<{ Params: { user_id: string } }>('/members/:user_id', async (request) => setMemberFlags(ctx, request.params.user_id, request.body));

    admin.get('/apps', async () => (await listApps(ctx.db)).map(appView));
    admin.post('/apps', async (request, reply) => reply.code(201).send(await createApp(ctx, request.body)));
    admin.patch<{ Params: { app_id: string } }>('/apps/:app_id', async (request) => editApp(ctx, request.params.app_id, request.body));
    admin.post<{ Params: { app_id: string } }>('/apps/:app_id/rotate-platform-key', async (request) => rotatePlatformKey(ctx, request.params.app_id));

    admin.get('/partners', async () => (await listPartners(ctx.db)).map(partnerView));
    admin.post('/partners', async (request, reply) => reply.code(201).send(await createPartner(ctx, request.body)));
    admin.patch<{ Params: { partner: string } }>('/partners/:partner', async (request) => editPartner(ctx, request.params.partner, request.body));

    registerRequestLogRoutes(admin, ctx);
    registerFaultRoutes(admin, ctx);
    // Feature admin routes register here (same Bearer auth, prefix /admin/api).
    registerOpenApiAdminRoutes(admin, ctx);
    registerMapiAdminRoutes(admin, ctx);
    admin.get('/koubei/operators', async () => listOperators(ctx.db));
    admin.get('/koubei/merchants', async () => listMerchants(ctx.db));
  }, { prefix: '/admin/api' });
}
