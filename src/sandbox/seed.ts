import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../storage/db.ts';
import type { GatewayContext } from '../context.ts';
import type { PiiVault } from '../domain/pii.ts';
import { getMeta } from '../storage/repositories/meta.ts';
import { forgetCachedRows } from '../storage/row-cache.ts';
import { insertApp } from '../storage/repositories/apps.ts';
import { insertPartner } from '../storage/repositories/partners.ts';
import { insertMember } from '../storage/repositories/members.ts';
import { insertMerchant, insertOperator } from '../storage/repositories/koubei.ts';
import { generateSandboxSpec, type SandboxSpec } from './spec.ts';

/** The meta row holding the sandbox spec, sealed by the vault (JSON). */
export const SPEC_KEY = 'sandbox';

/** Every table a reset empties; meta (the spec, settings) stays. */
const STATE_TABLES = [
  'members', 'partners', 'apps', 'merchants', 'operators', 'auth_codes', 'bind_requests', 'bindings',
  'zhima_auths', 'tokens', 'notifications', 'notify_attempts', 'sms', 'request_log', 'faults', 'sessions',
] as const;

async function insertSpecRows(db: Db, vault: PiiVault, spec: SandboxSpec): Promise<void> {
  for (const app of spec.apps) await insertApp(db, app);
  for (const p of spec.partners) await insertPartner(db, p);
  for (const m of spec.members) {
    const { role: _role, password_hash, ...member } = m;
    await insertMember(db, vault, member, password_hash);
  }
  for (const m of spec.merchants) await insertMerchant(db, m);
  for (const o of spec.operators) {
    const { password: _pw, password_hash, ...op } = o;
    await insertOperator(db, op, password_hash);
  }
}

export async function loadSpec(ctx: GatewayContext): Promise<SandboxSpec | undefined> {
  const sealed = await getMeta(ctx.db, SPEC_KEY);
  return sealed ? (JSON.parse(ctx.vault.decrypt(sealed)) as SandboxSpec) : undefined;
}

/**
 * First start: generate (or take the given) spec and seed it, in one transaction that
 * claims the spec row first — so two processes starting on one empty PostgreSQL seed once.
 */
export async function ensureSandbox(ctx: GatewayContext, given?: SandboxSpec): Promise<{ spec: SandboxSpec; created: boolean }> {
  const existing = await loadSpec(ctx);
  if (existing && !given) return { spec: existing, created: false };
  const spec = given ?? (await generateSandboxSpec());
  let created = false;
  await ctx.db.transaction().execute(async (trx) => {
    if (given) {
      // An explicit seed replaces whatever state there was.
      for (const t of STATE_TABLES) await trx.deleteFrom(t).execute();
      await trx.deleteFrom('meta').where('key', '=', SPEC_KEY).execute();
    }
    const claimed = await trx
      .insertInto('meta')
      .values({ key: SPEC_KEY, value: ctx.vault.encrypt(JSON.stringify(spec)) })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!claimed) return;
    await insertSpecRows(trx, ctx.vault, spec);
    created = true;
  });
  return created ? { spec, created } : { spec: (await loadSpec(ctx))!, created };
}

/** Back to the sandbox as the spec describes it: all state rows replaced, in one transaction. */
export async function resetSandbox(ctx: GatewayContext, spec?: SandboxSpec): Promise<SandboxSpec> {
  const current = spec ?? (await loadSpec(ctx)) ?? (await generateSandboxSpec());
  // Rows of calls answered before the reset are written now, so the reset empties them too.
  await ctx.requestLog.flush();
  await ctx.db.transaction().execute(async (trx) => {
    for (const t of STATE_TABLES) await trx.deleteFrom(t).execute();
    await trx
      .insertInto('meta')
      .values({ key: SPEC_KEY, value: ctx.vault.encrypt(JSON.stringify(current)) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: ctx.vault.encrypt(JSON.stringify(current)) }))
      .execute();
    await insertSpecRows(trx, ctx.vault, current);
  });
  forgetCachedRows();
  return current;
}

/** The credentials a user needs, in the shape of sandbox.json and GET /admin/api/sandbox. */
export function sandboxView(ctx: GatewayContext, spec: SandboxSpec) {
  const app = spec.apps[0];
  const partner = spec.partners[0];
  const base = ctx.baseUrl();
  return {
    gateway: `${base}/gateway.do`,
    console: `${base}/console`,
    admin_token: ctx.config.adminToken ?? spec.admin_token,
    app: app && {
      app_id: app.app_id,
      sign_type: app.sign_type,
      app_private_key: app.app_private_key,
      app_public_key: app.app_public_key,
      alipay_public_key: app.platform_public_key,
      methods: app.methods,
    },
    partner: partner && {
      partner: partner.partner,
      name: partner.name,
      md5_key: partner.md5_key,
      rsa_private_key: partner.rsa_private_key,
      rsa_public_key: partner.rsa_public_key,
      dsa_private_key: partner.dsa_private_key,
      dsa_public_key: partner.dsa_public_key,
      alipay_rsa_public_key: partner.platform_rsa_public_key,
      alipay_dsa_public_key: partner.platform_dsa_public_key,
      services: partner.services,
    },
    members: spec.members.map(({ password_hash: _h, ...m }) => m),
    koubei_merchants: spec.merchants,
    koubei_operators: spec.operators.map(({ password_hash: _h, ...o }) => o),
  };
}

export type SandboxView = ReturnType<typeof sandboxView>;

export function writeSandboxFile(ctx: GatewayContext, view: SandboxView): string | undefined {
  if (!ctx.config.dataDir) return undefined;
  mkdirSync(ctx.config.dataDir, { recursive: true });
  const file = join(ctx.config.dataDir, 'sandbox.json');
  writeFileSync(file, JSON.stringify(view, null, 2) + '\n', { mode: 0o600 });
  return file;
}
