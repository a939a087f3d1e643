import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import pino, { type Logger } from 'pino';
import { BODY_LIMIT, type GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { openStorage } from './storage/db.ts';
import { RequestLogWriter } from './storage/request-log-writer.ts';
import { PiiVault } from './domain/pii.ts';
import { registerMetrics } from './metrics.ts';
import { registerAdminRoutes } from './admin/routes.ts';
import { registerConsole } from './console/routes.ts';
import { startRequestLogRetention } from './console/request-log-retention.ts';
import { ensureSandbox, sandboxView, writeSandboxFile, type SandboxView } from './sandbox/seed.ts';
import type { SandboxSpec } from './sandbox/spec.ts';
import { importState, type StateFile } from './storage/export.ts';
import { sql } from 'kysely';
import { registerGatewayRoute } from './gateway/route.ts';
import { createOpenApiHandler } from './gateway/openapi/handler.ts';
import { createMapiHandler } from './gateway/mapi/handler.ts';
import { registerBindPages } from './pages/bind.ts';
import { startNotifyDispatcher } from './notify/dispatcher.ts';
import { registerKoubeiPortal } from './pages/koubei-portal.ts';
import { registerSmsInbox } from './pages/sms-inbox.ts';
import { loadTls } from './tls.ts';

/** Paths whose values must never reach a log line in clear (personal data, secrets). */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', '*.cert_no', '*.name', '*.mobile', '*.password'];


export interface RunningGateway {
  ctx: GatewayContext;
  app: FastifyInstance;
  url: string;
  sandbox: SandboxView;
  createdSandbox: boolean;
  close(): Promise<void>;
}

export function createLogger(config: GatewayConfig): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[masked]' } });
}

/** Wires storage, sandbox and HTTP routes together and listens; no logic of its own. */
export async function startServer(config: GatewayConfig, options: { logger?: Logger; seed?: SandboxSpec; state?: StateFile } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(config);
  const storage = await openStorage(config.storage);
  let boundUrl = '';
  const ctx: GatewayContext = {
    config,
    storage,
    db: storage.db,
    vault: new PiiVault(config.dataKey),
    logger,
    requestLog: new RequestLogWriter(storage.db, logger),
    baseUrl: () => (config.publicUrl ?? boundUrl).replace(/\/$/, ''),
  };

  const tls = await loadTls(config);
  const timeout = config.requestTimeoutMs;
  // Node checks for overdue requests every connectionsCheckingInterval (30 s by default):
  // often enough that a trickling client is cut off near its deadline, not 30 s after it.
  const serverOptions = { headersTimeout: timeout, connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(timeout / 4))) };
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Slow clients are cut off instead of holding a connection forever: idle sockets after
    // the timeout, and requests whose headers and body have not all arrived by then.
    connectionTimeout: timeout,
    requestTimeout: timeout,
    ...(tls ? { https: { ...serverOptions, cert: tls.cert, key: tls.key } } : { http: serverOptions }),
    // Per-request lines would repeat what the request log stores (masked) and cost throughput.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Bodies stay raw bytes: the gateway decodes them in the request's declared charset.
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(cookie);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err: { message: err.message, code: err.code } }, 'unhandled error');
    // Never a stack trace or internal message to the client.
    reply.code(status).send({ error: status === 500 ? 'internal_error' : (err.code ?? 'bad_request'), message: status === 500 ? 'internal error' : err.message });
  });

  const metrics = registerMetrics(app);
  app.get('/healthz', async (_req, reply) => {
    try {
      await sql`select 1`.execute(ctx.db);
      return { status: 'ok', storage: storage.engine };
    } catch {
      return reply.code(503).send({ status: 'unavailable', storage: storage.engine });
    }
  });

  // An imported state (--import) replaces everything before the sandbox is looked at.
  if (options.state) await importState(storage, ctx.vault, options.state).catch(async (err) => { await storage.close(); throw err; });
  const { spec, created } = await ensureSandbox(ctx, options.seed);
  await registerAdminRoutes(app, ctx);
  // Feature wiring: each feature registers its routes (and background work) here.
  registerGatewayRoute(app, ctx, {
    openapi: createOpenApiHandler(ctx, metrics),
    mapi: createMapiHandler(ctx, metrics),
  });
  registerBindPages(app, ctx);
  const notifier = startNotifyDispatcher(ctx);
  // preClose: before the storage closes, so no attempt is cut off half-recorded.
  app.addHook('preClose', () => notifier.stop());
  registerKoubeiPortal(app, ctx);
  registerSmsInbox(app, ctx);
  await registerConsole(app, ctx);
  const retention = startRequestLogRetention(ctx);
  app.addHook('preClose', () => retention.stop());

  app.addHook('onClose', async () => {
    // After the last request was answered: its log row is written before storage closes.
    await ctx.requestLog.flush();
    await storage.close();
  });

  try {
    boundUrl = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  // listen() may report [::1]; users and clients want the host they asked for.
  const address = app.server.address();
  if (address && typeof address === 'object') boundUrl = `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  const sandbox = sandboxView(ctx, spec);
  writeSandboxFile(ctx, sandbox);
  return { ctx, app, url: ctx.baseUrl(), sandbox, createdSandbox: created, close: () => app.close() };
}
