import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { generateRsaKeyPair, parsePublicKey } from '../crypto/keys.ts';
import { isValidIdNumber, newPid } from '../domain/ids.ts';
import { OPENAPI_METHODS, MAPI_SERVICES } from '../services/names.ts';
import { findApp, insertApp, updateApp, type App } from '../storage/repositories/apps.ts';
import { findMember, findMemberByLogin, insertMember, updateMemberFlags, type Member } from '../storage/repositories/members.ts';
import { findPartner, insertPartner, updatePartner, type Partner } from '../storage/repositories/partners.ts';
import { newApp, newPartner } from '../sandbox/spec.ts';
import { AdminError, validate } from './validation.ts';

/**
 * The account operations (members, apps, partners) behind both the admin API and the
 * console: each takes the caller's input as it came, validates it and throws AdminError.
 */
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

export const SIGN_TYPES = ['RSA2', 'RSA'] as const;
export const TOKEN_POLICIES = ['permanent', 'expiring'] as const;

const appSchema = z.object({
  app_id: z.string().regex(/^\d{16}$/, 'must be 16 digits').optional(),
  name: z.string().min(1).max(64).optional(),
  sign_type: z.enum(SIGN_TYPES).default('RSA2'),
  app_public_key: publicKey.optional(),
  methods: z.array(z.enum(OPENAPI_METHODS)).optional(),
  provider_id: pid.nullable().optional(),
  isv_url: z.string().max(512).optional(),
  auth_code_ttl_seconds: z.number().int().min(180).max(86400).optional(),
  token_policy: z.enum(TOKEN_POLICIES).optional(),
  access_token_ttl_seconds: z.number().int().min(1).max(315_360_000).optional(),
  refresh_token_ttl_seconds: z.number().int().min(1).max(315_360_000).optional(),
});

const appPatchSchema = appSchema.omit({ app_id: true }).partial().extend({ sign_type: z.enum(SIGN_TYPES).optional() });

const partnerSchema = z.object({
  partner: pid.optional(),
  name: z.string().min(1).max(64).optional(),
  md5_key: z.string().regex(/^[0-9A-Za-z]{16,64}$/, 'must be 16-64 letters or digits').optional(),
  rsa_public_key: publicKey.optional(),
  dsa_public_key: publicKey.optional(),
  services: z.array(z.enum(MAPI_SERVICES)).optional(),
  allowed_domains: z.array(z.string().min(1).max(253)).optional(),
});

const partnerPatchSchema = partnerSchema.omit({ partner: true }).partial();

export type AppView = ReturnType<typeof appView>;
export type PartnerView = ReturnType<typeof partnerView>;

export function appView(app: App) {
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

export function partnerView(p: Partner) {
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

/** Only the fields the caller gave: undefined means "keep" (or "generate"), not "clear". */
function given<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function createMember(ctx: GatewayContext, input: unknown): Promise<Member> {
  const body = validate(memberSchema, input);
  if (await findMemberByLogin(ctx.db, ctx.vault, body.login_id)) {
    throw new AdminError(409, 'conflict', `login_id ${body.login_id} already exists`);
  }
  const userId = body.user_id ?? newPid();
  if (await findMember(ctx.db, ctx.vault, userId)) throw new AdminError(409, 'conflict', `user_id ${userId} already exists`);
  return insertMember(ctx.db, ctx.vault, { ...body, user_id: userId });
}

export async function setMemberFlags(ctx: GatewayContext, userId: string, input: unknown): Promise<Member> {
  const body = validate(memberPatchSchema, input);
  if (!(await updateMemberFlags(ctx.db, userId, body))) throw new AdminError(404, 'not_found', 'no such member');
  return (await findMember(ctx.db, ctx.vault, userId))!;
}

export async function createApp(ctx: GatewayContext, input: unknown): Promise<AppView> {
  const body = validate(appSchema, input);
  if (body.app_id && (await findApp(ctx.db, body.app_id))) throw new AdminError(409, 'conflict', `app_id ${body.app_id} already exists`);
  const { app_public_key, ...rest } = body;
  const generated = await newApp(given(rest));
  // An uploaded public key means the ISV keeps its private key: we never see it.
  const app = app_public_key ? { ...generated, app_public_key, app_private_key: null } : generated;
  return appView(await insertApp(ctx.db, app));
}

export async function findAppView(ctx: GatewayContext, appId: string): Promise<AppView> {
  const app = await findApp(ctx.db, appId);
  if (!app) throw new AdminError(404, 'not_found', 'no such app');
  return appView(app);
}

export async function editApp(ctx: GatewayContext, appId: string, input: unknown): Promise<AppView> {
  const patch: Partial<App> = given(validate(appPatchSchema, input));
  if (patch.app_public_key) patch.app_private_key = null;
  // An empty patch changes nothing (and would be an empty UPDATE): it only checks the app exists.
  if (Object.keys(patch).length > 0 && !(await updateApp(ctx.db, appId, patch))) throw new AdminError(404, 'not_found', 'no such app');
  return findAppView(ctx, appId);
}

/** A new platform key pair for the app: answers are signed with it from the next request on. */
export async function rotatePlatformKey(ctx: GatewayContext, appId: string): Promise<AppView> {
  if (!(await findApp(ctx.db, appId))) throw new AdminError(404, 'not_found', 'no such app');
  const pair = await generateRsaKeyPair();
  await updateApp(ctx.db, appId, { platform_private_key: pair.privateKey, platform_public_key: pair.publicKey });
  return findAppView(ctx, appId);
}

export async function createPartner(ctx: GatewayContext, input: unknown): Promise<PartnerView> {
  const body = validate(partnerSchema, input);
  if (body.partner && (await findPartner(ctx.db, body.partner))) throw new AdminError(409, 'conflict', `partner ${body.partner} already exists`);
  const generated = await newPartner(given(body));
  // Uploaded public keys: the partner keeps the private halves.
  if (body.rsa_public_key) generated.rsa_private_key = null;
  if (body.dsa_public_key) generated.dsa_private_key = null;
  return partnerView(await insertPartner(ctx.db, generated));
}

export async function findPartnerView(ctx: GatewayContext, partner: string): Promise<PartnerView> {
  const p = await findPartner(ctx.db, partner);
  if (!p) throw new AdminError(404, 'not_found', 'no such partner');
  return partnerView(p);
}

export async function editPartner(ctx: GatewayContext, partner: string, input: unknown): Promise<PartnerView> {
  const patch: Partial<Partner> = given(validate(partnerPatchSchema, input));
  if (patch.rsa_public_key) patch.rsa_private_key = null;
  if (patch.dsa_public_key) patch.dsa_private_key = null;
  if (Object.keys(patch).length > 0 && !(await updatePartner(ctx.db, partner, patch))) throw new AdminError(404, 'not_found', 'no such partner');
  return findPartnerView(ctx, partner);
}
