import Fastify from 'fastify';

/** The http_ratio baseline: a bare route of the same framework, one process, same host. */
const app = Fastify({ logger: false });
app.get('/hello', async () => 'hello');
const url = await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.stdout.write(`${url}\n`);
