import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { registerConsoleAssets } from './assets.ts';
import { requireConsoleSession } from './session.ts';
import { registerLogin } from './pages/login.ts';
import { registerOverview } from './pages/overview.ts';
import { registerApps } from './pages/apps.ts';
import { registerPartners } from './pages/partners.ts';
import { registerMembers } from './pages/members.ts';
import { registerRequestLog } from './pages/requests.ts';
import { registerNotifications } from './pages/notifications.ts';
import { registerFaults } from './pages/faults.ts';
import { registerKeyDownloads } from './pages/keys.ts';

/**
 * The developer console under /console: server-rendered pages over the same operations
 * as the admin API. Every route needs a signed-in session unless marked `config.public`.
 */
export async function registerConsole(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  await app.register(async (c) => {
    c.addHook('preHandler', requireConsoleSession(ctx));
    registerConsoleAssets(c);
    registerLogin(c, ctx);
    registerOverview(c, ctx);
    registerApps(c, ctx);
    registerPartners(c, ctx);
    registerMembers(c, ctx);
    registerRequestLog(c, ctx);
    registerNotifications(c, ctx);
    registerFaults(c, ctx);
    registerKeyDownloads(c, ctx);
  });
}
