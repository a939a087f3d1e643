/**
 * `npm run bench`: starts the gateway in its own process, drives it over loopback from
 * separate load-generator processes, and prints figures and ratios measured in this run.
 *
 *   rsa_ratio  = OpenAPI req/s ÷ this machine's rate of (one RSA2 sign + one RSA2 verify)
 *                on all cores, measured just before with a 2048-bit key;
 *   http_ratio = MAPI notify_verify req/s ÷ a bare Fastify "hello" route.
 *
 * Load: wrk (Debian package) when present — it costs little CPU — else autocannon, both
 * closed-loop at full speed. The p99 at half the maximum rate comes from an open-loop
 * generator (paced.ts): latency counted from when each request was due.
 * Options (env): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 32), DATABASE_URL
 * (PostgreSQL; the run gets a fresh schema there, dropped at the end).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { resolveConfig } from '../src/config.ts';
import { openApiRequestContent } from '../src/crypto/sign-content.ts';
import { signSync } from '../src/crypto/signature.ts';
import { beijingTime, hex } from '../src/domain/ids.ts';
import { openStorage } from '../src/storage/db.ts';
import { pacedLoad } from './paced.ts';
import { dropDatabaseSchema, freshDatabaseUrl } from '../test/support/gateway.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLK_TCK = 100;

interface Result {
  scenario: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  loadgen_cpu_s: number;
}

/** user+system CPU seconds of a process, from /proc (Linux). */
function cpuSeconds(pid: number | 'self-children'): number {
  const stat = readFileSync(pid === 'self-children' ? '/proc/self/stat' : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11..14] = utime, stime, cutime, cstime (0-based after the command name)
  const [ut, st, cut, cst] = fields.slice(11, 15).map(Number);
  return (pid === 'self-children' ? cut + cst : ut + st) / CLK_TCK;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** The machine's ceiling: RSA2 sign+verify pairs per second on the thread pool, all cores. */
async function rsaPairsPerSecond(seconds: number): Promise<number> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = randomBytes(300);
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const sig = await new Promise<Buffer>((res, rej) => cryptoSign('sha256', data, privateKey, (e, s) => (e ? rej(e) : res(s))));
      await new Promise<boolean>((res, rej) => cryptoVerify('sha256', data, publicKey, sig, (e, ok) => (e ? rej(e) : res(ok))));
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: availableParallelism() * 2 }, worker));
  return done / ((performance.now() - started) / 1000);
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before ready:\n${buf}`)));
  });
}

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** Runs one load: `items` are form bodies (POST) or paths (GET), each ideally used once. */
async function load(scenario: string, base: string, method: 'GET' | 'POST', items: string[], expect: string, path = '/'): Promise<Result> {
  const before = cpuSeconds('self-children');
  if (hasWrk()) {
    const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-bench-'));
    const file = join(dir, 'items.txt');
    writeFileSync(file, items.join('\n') + '\n');
    const threads = 2;
    const out = spawnSync('wrk', ['-t', String(threads), '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', join(ROOT, 'bench/wrk-requests.lua'), base + path, '--', file, String(threads), expect, method], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    const text = out.stdout;
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    const requests = num(/(\d+) requests in/);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
    return {
      scenario,
      rps: num(/Requests\/sec:\s+([\d.]+)/),
      p50_ms: num(/LATENCY_P50_US (\d+)/) / 1000,
      p99_ms: num(/LATENCY_P99_US (\d+)/) / 1000,
      requests,
      errors: num(/BODY_ERRORS (\d+)/) + (socketErrors ? socketErrors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0),
      loadgen_cpu_s: cpuSeconds('self-children') - before,
    };
  }
  return autocannonLoad(scenario, base, method, items, expect, path);
}

/** autocannon runs in this process, so its CPU is this process's own. */
async function autocannonLoad(scenario: string, base: string, method: 'GET' | 'POST', items: string[], expect: string, path: string): Promise<Result> {
  const cpuBefore = process.cpuUsage();
  let i = 0;
  let errors = 0;
  const result = await autocannon({
    url: base + path,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (req: any) => {
          const item = items[i++ % items.length];
          return method === 'GET'
            ? { ...req, method: 'GET', path: item }
            : { ...req, method: 'POST', path, body: item, headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' } };
        },
        onResponse: (status: number, body: string) => {
          if (status !== 200 || !body.includes(expect)) errors++;
        },
      },
    ],
  } as any);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    scenario,
    rps: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    errors: errors + result.errors + result.timeouts,
    loadgen_cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

/**
 * Open-loop at a fixed rate (paced.ts) from this process, so its CPU is this process's own.
 * Two seconds at the same rate go first, unmeasured: the server has just idled through the
 * baseline run, and the generator's own first requests (connections, JIT) are not the server's.
 */
async function pacedRun(scenario: string, base: string, body: string, expect: string, rate: number): Promise<Result> {
  const request = { method: 'POST', path: '/gateway.do', body, contentType: 'application/x-www-form-urlencoded;charset=utf-8' } as const;
  await pacedLoad(base, request, { rate, seconds: 2, expect, maxConnections: CONNECTIONS });
  const cpuBefore = process.cpuUsage();
  const r = await pacedLoad(base, request, { rate, seconds: SECONDS, expect, maxConnections: CONNECTIONS });
  const cpu = process.cpuUsage(cpuBefore);
  return { scenario, rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms, requests: r.requests, errors: r.errors, loadgen_cpu_s: (cpu.user + cpu.system) / 1e6 };
}

/**
 * One-time Koubei codes for the operator, written straight into the gateway's database
 * (as POST /admin/api/koubei/auth-codes would, tens of thousands of times): setup, not load.
 */
async function issueCodes(dataDir: string, databaseUrl: string | undefined, appId: string, operatorId: string, count: number): Promise<string[]> {
  const storage = await openStorage(resolveConfig({ dataDir, databaseUrl }).storage);
  try {
    const now = Date.now();
    const codes = Array.from({ length: count }, () => hex(16));
    for (let i = 0; i < count; i += 1000) {
      const rows = codes.slice(i, i + 1000).map((code) => ({ code, app_id: appId, operator_id: operatorId, ext_info: null, expires_at: now + 3_600_000, used_at: null, created_at: now }));
      await storage.db.insertInto('auth_codes').values(rows).execute();
    }
    return codes;
  } finally {
    await storage.close();
  }
}

function signedForm(app: { app_id: string; app_private_key: string }, method: string, extra: Record<string, string>): string {
  const params: Record<string, string> = {
    app_id: app.app_id,
    method,
    format: 'JSON',
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: beijingTime(),
    version: '1.0',
    ...extra,
  };
  params.sign = signSync('RSA2', Buffer.from(openApiRequestContent(params, false)), app.app_private_key);
  return new URLSearchParams(params).toString();
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewaydo-bench-data-'));
  const databaseUrl = process.env.DATABASE_URL ? await freshDatabaseUrl(process.env.DATABASE_URL) : undefined;
  console.error(`measuring this machine's RSA2 sign+verify rate (${cpus().length} cores)…`);
  const rsaRate = await rsaPairsPerSecond(3);

  const server = spawn(process.execPath, [join(ROOT, 'bin/gatewaydo.js'), 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ...(databaseUrl && { DATABASE_URL: databaseUrl }), LOG_LEVEL: 'warn', GATEWAYDO_REQUEST_LOG_RETENTION: '100000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const hello = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/hello.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const gatewayUrl = await waitForLine(server, /gateway\s+(http:\/\/\S+)\/gateway\.do/);
    const helloUrl = await waitForLine(hello, /(http:\/\/\S+)/);
    const sandbox = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8'));
    const buyer = sandbox.members.find((m: any) => m.certified && !m.protected);
    const zhima = signedForm(sandbox.app, 'alipay.user.auth.zhimaper.inner.apply', {
      biz_content: JSON.stringify({ cert_no: buyer.cert_no, cert_type: 'IDENTITY_CARD', name: buyer.name, mobile: buyer.mobile }),
    });
    const badSign = zhima.replace(/sign=[^&]+/, 'sign=' + encodeURIComponent(randomBytes(256).toString('base64')));
    const provider = sandbox.koubei_operators[0];

    const results: Result[] = [];
    const run = async (r: Promise<Result>) => {
      const res = await r;
      results.push(res);
      console.error(`  ${res.scenario}: ${res.rps.toFixed(0)} req/s`);
      return res;
    };
    const serverCpuBefore = cpuSeconds(server.pid!);
    const zhimaRes = await run(load('zhimaper.inner.apply (success)', gatewayUrl, 'POST', [zhima], '"code":"10000"', '/gateway.do'));

    // Fresh one-time codes, each used once: enough for the measured rate, made beforehand
    // (a code used twice would answer AUTH_CODE_NOT_EXIST and count as an error).
    const needed = Math.ceil(Math.max(zhimaRes.rps * 2.5, 2000) * SECONDS);
    console.error(`  creating ${needed} Koubei auth codes…`);
    const codes = await issueCodes(dataDir, databaseUrl, sandbox.app.app_id, provider.operator_id, needed);
    const koubeiBodies = codes.map((code) => signedForm(sandbox.app, 'koubei.member.data.oauth.query', { biz_content: JSON.stringify({ auth_type: 'pay_member', code }) }));
    await run(load('koubei.member.data.oauth.query (fresh codes)', gatewayUrl, 'POST', koubeiBodies, '"code":"10000"', '/gateway.do'));
    await run(load('invalid signature', gatewayUrl, 'POST', [badSign], 'isv.invalid-signature', '/gateway.do'));
    // Notify ids we never issued, all different, so nothing a cache holds can answer them.
    const verifyPaths = Array.from({ length: 10_000 }, () => `/gateway.do?service=notify_verify&partner=${sandbox.partner.partner}&notify_id=${randomBytes(16).toString('hex')}`);
    const verifyRes = await run(load('MAPI notify_verify', gatewayUrl, 'GET', verifyPaths, 'false'));
    const helloRes = await run(load('bare fastify hello (baseline)', helloUrl, 'GET', ['/hello'], 'hello'));
    const half = await run(pacedRun('zhimaper.inner.apply at half max rate (open loop)', gatewayUrl, zhima, '"code":"10000"', Math.max(1, Math.floor(zhimaRes.rps / 2))));
    const serverCpu = cpuSeconds(server.pid!) - serverCpuBefore;
    const rss = rssMb(server.pid!);

    const figures = {
      date: new Date().toISOString(),
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      storage: process.env.DATABASE_URL ? 'postgres' : 'sqlite',
      loadgen: hasWrk() ? 'wrk' : 'autocannon',
      seconds: SECONDS,
      connections: CONNECTIONS,
      rsa2_sign_verify_per_s: Math.round(rsaRate),
      rsa_ratio: +(zhimaRes.rps / rsaRate).toFixed(3),
      http_ratio: +(verifyRes.rps / helloRes.rps).toFixed(3),
      p99_ms_at_half_rate: half.p99_ms,
      server_rss_mb: rss,
      server_cpu_s: +serverCpu.toFixed(1),
      scenarios: results.map((r) => ({ ...r, rps: Math.round(r.rps), loadgen_cpu_s: +r.loadgen_cpu_s.toFixed(1) })),
    };
    const rows = figures.scenarios.map((r) => [r.scenario, r.rps, r.p50_ms, r.p99_ms, r.requests, r.errors, r.loadgen_cpu_s]);
    console.log(`\ngatewaydo bench — ${figures.cores} cores, ${figures.storage}, ${figures.loadgen}, ${SECONDS}s per scenario, ${CONNECTIONS} connections`);
    console.table(rows.map(([scenario, rps, p50, p99, requests, errors, cpu]) => ({ scenario, 'req/s': rps, 'p50 ms': p50, 'p99 ms': p99, requests, errors, 'loadgen cpu s': cpu })));
    console.log(`machine RSA2 sign+verify pairs/s (all cores): ${figures.rsa2_sign_verify_per_s}`);
    console.log(`rsa_ratio  = ${figures.rsa_ratio}  (target ≥ 0.75 embedded, ≥ 0.7 PostgreSQL)`);
    console.log(`http_ratio = ${figures.http_ratio}  (target ≥ 0.6)`);
    console.log(`p99 at half max rate = ${figures.p99_ms_at_half_rate} ms (target < 25)`);
    console.log(`server RSS after run = ${figures.server_rss_mb} MB (target < 300)`);
    console.log('BENCH_JSON ' + JSON.stringify(figures));
  } finally {
    server.kill('SIGTERM');
    hello.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    if (databaseUrl) {
      // The server's pool holds connections to the schema until it has exited.
      if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
      await dropDatabaseSchema(databaseUrl);
    }
  }
}

await main();
