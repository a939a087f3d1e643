import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { parsePublicKey } from '../crypto/keys.ts';
import { isValidIdNumber, newPid } from '../domain/ids.ts';
import { OPENAPI_METHODS, MAPI_SERVICES } from '../services/names.ts';
import { findApp, insertApp, listApps, updateApp, type App } from '../storage/repositories/apps.ts';
import { findMember, findMemberByLogin, insertMember, listMembers, updateMemberFlags } from '../storage/repositories/members.ts';
import { findPartner, insertPartner, listPartners, type Partner } from '../storage/repositories/partners.ts';
import { listMerchants, listOperators } from '../storage/repositories/koubei.ts';
import { newApp, newPartner } from '../sandbox/spec.ts';
import { loadSpec, resetSandbox, sandboxView, writeSandboxFile } from '../sandbox/seed.ts';
import { requireAdmin } from './auth.ts';
import { parseBody } from './validation.ts';
import { registerFaultRoutes } from './faults.ts';

const pid = z.string().regex(/^2088\d{12}$/, 'must be 2088 followed by 12 digits');
const publicKey = z.string().max(4096).refine((k) => {
  try {
    parsePublicKey(k);
    return true;
  } catch {
    return false;
  }
}, 'not a public key (PEM or bare base64 SPKI)');

const memberSchema = z.object({
  user_id: pid.optional(),
  login_id: z.string().min(3).max(100).refine((v) => /^[^@\s]+@[^@\s]+$/.test(v) || /^1\d{10}$/.test(v), 'must be an email or an 11-digit mobile'),
  password: z.string().min(6).max(128),
  name: z.string().min(1).max(16),
  cert_type: z.literal('IDENTITY_CARD').default('IDENTITY_CARD'),
  cert_no: z.string().refine(isValidIdNumber, 'must be an 18-character ID number with a valid check digit'),
  mobile: z.string().regex(/^1\d{10}$/, 'must be an 11-digit mobile number'),
  certified: z.boolean().default(true),
  protected: z.boolean().default(false),
});

const memberPatchSchema = z.object({ certified: z.boolean().optional(), protected: z.boolean().optional() });

const appSchema = z.object({
  app_id: z.string().regex(/^\d{16}$/, 'must be 16 digits').optional(),
  name: z.string().min(1).max(64).optional(),
  sign_type: z.enum(['RSA2', 'RSA']).default('RSA2'),
  app_public_key: publicKey.optional(),
  methods: z.array(z.enum(OPENAPI_METHODS)).optional(),
  provider_id: pid.nullable().optional(),
  isv_url: z.string().max(512).optional(),
  auth_code_ttl_seconds: z.number().int().min(180).max(86400).optional(),
  token_policy: z.enum(['permanent', 'expiring']).optional(),
  access_token_ttl_seconds: z.number().int().min(1).max(315_360_000).optional(),
  refresh_token_ttl_seconds: z.number().int().min(1).max(315_360_000).optional(),
});

const appPatchSchema = appSchema.omit({ app_id: true }).partial().extend({ sign_type: z.enum(['RSA2', 'RSA']).optional() });

const partnerSchema = z.object({
  partner: pid.optional(),
  name: z.string().min(1).max(64).optional(),
  md5_key: z.string().regex(/^[0-9A-Za-z]{16,64}$/, 'must be 16-64 letters or digits').optional(),
  rsa_public_key: publicKey.optional(),
  dsa_public_key: publicKey.optional(),
  services: z.array(z.enum(MAPI_SERVICES)).optional(),
  allowed_domains: z.array(z.string().min(1).max(253)).optional(),
});

function appView(app: App) {
  return {
    app_id: app.app_id,
    name: app.name,
    sign_type: app.sign_type,
    app_private_key: app.app_private_key,
    app_public_key: app.app_public_key,
    alipay_public_key: app.platform_public_key,
    methods: app.methods,
    provider_id: app.provider_id,
    isv_url: app.isv_url,
    auth_code_ttl_seconds: app.auth_code_ttl_seconds,
    token_policy: app.token_policy,
    access_token_ttl_seconds: app.access_token_ttl_seconds,
    refresh_token_ttl_seconds: app.refresh_token_ttl_seconds,
  };
}

function partnerView(p: Partner) {
  return {
    partner: p.partner,
    name: p.name,
    md5_key: p.md5_key,
    rsa_private_key: p.rsa_private_key,
    rsa_public_key: p.rsa_public_key,
    dsa_private_key: p.dsa_private_key,
    dsa_public_key: p.dsa_public_key,
    alipay_rsa_public_key: p.platform_rsa_public_key,
    alipay_dsa_public_key: p.platform_dsa_public_key,
    services: p.services,
    allowed_domains: p.allowed_domains,
  };
}

export async function adminToken(ctx: GatewayContext): Promise<string> {
  return ctx.config.adminToken ?? (await loadSpec(ctx))?.admin_token ?? '';
}

export async function registerAdminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  let token = await adminToken(ctx);
  await app.register(async (admin) => {
    admin.addHook('preHandler', requireAdmin(() => token));

    admin.get('/sandbox', async () => {
      const spec = await loadSpec(ctx);
      return spec ? sandboxView(ctx, spec) : {};
    });

    admin.post('/reset', async (request, reply) => {
      const body = parseBody(z.object({ regenerate: z.boolean().default(false) }), request.body, reply);
      if (!body) return;
      const spec = await resetSandbox(ctx, body.regenerate ? undefined : await loadSpec(ctx));
      token = ctx.config.adminToken ?? spec.admin_token;
      const view = sandboxView(ctx, spec);
      writeSandboxFile(ctx, view);
      return view;
    });

    admin.get('/members', async () => (await listMembers(ctx.db, ctx.vault)));

    admin.post('/members', async (request, reply) => {
      const body = parseBody(memberSchema, request.body, reply);
      if (!body) return;
      if (await findMemberByLogin(ctx.db, ctx.vault, body.login_id)) {
        return reply.code(409).send({ error: 'conflict', message: `login_id ${body.login_id} already exists` });
      }
      const userId = body.user_id ?? newPid();
      if (await findMember(ctx.db, ctx.vault, userId)) {
        return reply.code(409).send({ error: 'conflict', message: `user_id ${userId} already exists` });
      }
      const member = await insertMember(ctx.db, ctx.vault, { ...body, user_id: userId });
      return reply.code(201).send(member);
    });

    admin.patch<{ Params: { user_id: string } }>('/members/:user_id', async (request, reply) => {
      const body = parseBody(memberPatchSchema, request.body, reply);
      if (!body) return;
      if (!(await updateMemberFlags(ctx.db, request.params.user_id, body))) {
        return reply.code(404).send({ error: 'not_found', message: 'no such member' });
      }
      return findMember(ctx.db, ctx.vault, request.params.user_id);
    });

    admin.get('/apps', async () => (await listApps(ctx.db)).map(appView));

    admin.post('/apps', async (request, reply) => {
      const body = parseBody(appSchema, request.body, reply);
      if (!body) return;
      if (body.app_id && (await findApp(ctx.db, body.app_id))) {
        return reply.code(409).send({ error: 'conflict', message: `app_id ${body.app_id} already exists` });
      }
      const { app_public_key, ...rest } = body;
      const generated = await newApp(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
      // An uploaded public key means the ISV keeps its private key: we never see it.
      const app = app_public_key ? { ...generated, app_public_key, app_private_key: null } : generated;
      return reply.code(201).send(appView(await insertApp(ctx.db, app)));
    });

    admin.patch<{ Params: { app_id: string } }>('/apps/:app_id', async (request, reply) => {
      const body = parseBody(appPatchSchema, request.body, reply);
      if (!body) return;
      const patch = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      if (patch.app_public_key) Object.assign(patch, { app_private_key: null });
      if (!(await updateApp(ctx.db, request.params.app_id, patch))) {
        return reply.code(404).send({ error: 'not_found', message: 'no such app' });
      }
      return appView((await findApp(ctx.db, request.params.app_id))!);
    });

    admin.get('/partners', async () => (await listPartners(ctx.db)).map(partnerView));

    admin.post('/partners', async (request, reply) => {
      const body = parseBody(partnerSchema, request.body, reply);
      if (!body) return;
      if (body.partner && (await findPartner(ctx.db, body.partner))) {
        return reply.code(409).send({ error: 'conflict', message: `partner ${body.partner} already exists` });
      }
      const generated = await newPartner(Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)));
      // Uploaded public keys: the partner keeps the private halves.
      if (body.rsa_public_key) generated.rsa_private_key = null;
      if (body.dsa_public_key) generated.dsa_private_key = null;
      return reply.code(201).send(partnerView(await insertPartner(ctx.db, generated)));
    });

    registerFaultRoutes(admin, ctx);
    // Feature admin routes register here (same Bearer auth, prefix /admin/api).
    admin.get('/koubei/operators', async () => listOperators(ctx.db));
    admin.get('/koubei/merchants', async () => listMerchants(ctx.db));
  }, { prefix: '/admin/api' });
}
