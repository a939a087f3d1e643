import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.ts';
import { parsePublicKey } from '../../crypto/keys.ts';
import { findApp, type App } from '../../storage/repositories/apps.ts';
import { findPartner, type Partner } from '../../storage/repositories/partners.ts';
import { loadSpec } from '../../sandbox/seed.ts';
import { messagePage, sendPage } from '../layout.ts';
import { sessionOf } from '../session.ts';

/**
 * Key downloads: `/console/keys/<name>.pem[?app_id=…|?partner=…]`, the sandbox's app or
 * partner by default. Only the ISV-side keys and the platform's public halves: the
 * platform's private keys never leave the server.
 */
const APP_KEYS: Record<string, (a: App) => string | null> = {
  app_private_key: (a) => a.app_private_key,
  app_public_key: (a) => a.app_public_key,
  alipay_public_key: (a) => a.platform_public_key,
};

const PARTNER_KEYS: Record<string, (p: Partner) => string | null> = {
  partner_rsa_private_key: (p) => p.rsa_private_key,
  partner_rsa_public_key: (p) => p.rsa_public_key,
  partner_dsa_private_key: (p) => p.dsa_private_key,
  partner_dsa_public_key: (p) => p.dsa_public_key,
  alipay_rsa_public_key: (p) => p.platform_rsa_public_key,
  alipay_dsa_public_key: (p) => p.platform_dsa_public_key,
};

export type AppKeyName = 'app_private_key' | 'app_public_key' | 'alipay_public_key';
export type PartnerKeyName = keyof typeof PARTNER_KEYS;

export function appKeyUrl(name: AppKeyName, appId: string): string {
  return `/console/keys/${name}.pem?app_id=${encodeURIComponent(appId)}`;
}

export function partnerKeyUrl(name: PartnerKeyName, partner: string): string {
  return `/console/keys/${name}.pem?partner=${encodeURIComponent(partner)}`;
}

/** Uploaded public keys may be bare base64 DER; a .pem file is always PEM. */
function asPem(key: string): string {
  return key.includes('-----BEGIN') ? key.trim() + '\n' : parsePublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** A single query value (a repeated parameter arrives as an array: ignored). */
const one = (v: unknown) => (typeof v === 'string' ? v : undefined);

async function lookup(ctx: GatewayContext, name: string, query: { app_id?: unknown; partner?: unknown }): Promise<[string, string | null] | undefined> {
  if (Object.hasOwn(APP_KEYS, name)) {
    const appId = one(query.app_id) ?? (await loadSpec(ctx))?.apps[0]?.app_id;
    const app = appId ? await findApp(ctx.db, appId) : undefined;
    return app && [app.app_id, APP_KEYS[name](app)];
  }
  if (Object.hasOwn(PARTNER_KEYS, name)) {
    const pid = one(query.partner) ?? (await loadSpec(ctx))?.partners[0]?.partner;
    const partner = pid ? await findPartner(ctx.db, pid) : undefined;
    return partner && [partner.partner, PARTNER_KEYS[name](partner)];
  }
  return undefined;
}

export function registerKeyDownloads(c: FastifyInstance, ctx: GatewayContext): void {
  c.get<{ Params: { file: string }; Querystring: { app_id?: unknown; partner?: unknown } }>('/console/keys/:file', async (request, reply) => {
    const name = /^([a-z_]+)\.pem$/.exec(request.params.file)?.[1] ?? '';
    const found = await lookup(ctx, name, request.query);
    if (!found || !found[1]) return sendPage(reply, 404, messagePage('Not found', 'No such key.', sessionOf(request)));
    const [owner, key] = found;
    return reply
      .header('content-type', 'application/x-pem-file')
      .header('content-disposition', `attachment; filename="${owner}_${name}.pem"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(asPem(key!));
  });
}
