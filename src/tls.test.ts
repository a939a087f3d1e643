import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test/support/cli.ts';
import { spawnServe } from '../test/support/serve-process.ts';

/**
 * Issue 8, TLS: `serve --tls self-signed` serves HTTPS with a certificate for localhost and
 * the loopback addresses, kept in the data dir and reused on restart; `--tls-cert/--tls-key`
 * serve given PEM files; session cookies are Secure over HTTPS. Checked with full
 * certificate verification against the generated certificate, not by turning it off.
 */
interface HttpsAnswer {
  status: number;
  body: string;
  setCookies: string[];
  peerFingerprint: string;
}

function httpsGet(url: string, ca: string, options: RequestOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    // agent: false — one connection per request, closed after it (no pooled socket to outlive the server).
    const req = request(url, { ca, agent: false, ...options }, (res) => {
      const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body,
          setCookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []),
          peerFingerprint,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('--tls self-signed serves HTTPS (verified against the generated certificate), reused on restart; --tls-cert/--tls-key serve given files', { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewaydo-tls-'));
  const env = { GATEWAYDO_DATA_DIR: dataDir, DATABASE_URL: undefined };
  const token = 'tls-test-admin-token';
  try {
    const first = await spawnServe(env, token, ['--tls', 'self-signed']);
    let fingerprint: string;
    const certFile = join(dataDir, 'tls', 'self-signed.crt');
    const keyFile = join(dataDir, 'tls', 'self-signed.key');
    try {
      assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the printed URLs are https');
      const ca = readFileSync(certFile, 'utf8');
      const cert = new X509Certificate(ca);
      assert.ok(cert.checkIP('127.0.0.1') && cert.checkHost('localhost'), 'made for the loopback names');

      const health = await httpsGet(`${first.url}/healthz`, ca);
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).status, 'ok');
      fingerprint = health.peerFingerprint;
      assert.equal(fingerprint, cert.fingerprint256);
      // The same port by the name localhost verifies too.
      assert.equal((await httpsGet(first.url.replace('127.0.0.1', 'localhost') + '/healthz', ca)).status, 200);
      // Without trusting it, a client refuses: it is a real TLS check above.
      await assert.rejects(httpsGet(`${first.url}/healthz`, '', { ca: undefined }), /self[- ]signed|unable to verify/i);

      const portal = await httpsGet(`${first.url}/koubei/portal`, ca);
      assert.match(portal.setCookies.find((c) => c.startsWith('gwd_koubei='))!, /;\s*Secure/i, 'session cookies are Secure over HTTPS');
      const login = await httpsGet(`${first.url}/console/login`, ca);
      assert.match(login.setCookies.find((c) => c.startsWith('gatewaydo_console_login='))!, /;\s*Secure/i);
    } finally {
      await first.stop();
    }

    const again = await spawnServe(env, token, ['--tls', 'self-signed']);
    try {
      assert.equal((await httpsGet(`${again.url}/healthz`, readFileSync(certFile, 'utf8'))).peerFingerprint, fingerprint, 'the kept certificate is reused');
    } finally {
      await again.stop();
    }

    const files = await spawnServe(env, token, ['--tls-cert', certFile, '--tls-key', keyFile]);
    try {
      assert.equal((await httpsGet(`${files.url}/healthz`, readFileSync(certFile, 'utf8'))).status, 200);
    } finally {
      await files.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('TLS flags that do not go together are refused before anything starts', async () => {
  const env = { DATABASE_URL: undefined, GATEWAYDO_DATA_DIR: join(tmpdir(), 'gatewaydo-tls-never-created') };
  const cases: Array<[string[], RegExp]> = [
    [['--tls', 'letsencrypt'], /invalid --tls letsencrypt/],
    [['--tls-cert', 'a.pem'], /--tls-cert and --tls-key go together/],
    [['--tls', 'self-signed', '--tls-key', 'k.pem'], /not both/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['serve', '--port', '0', ...args], env);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const missing = await runCli(['serve', '--port', '0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read the TLS certificate \/nonexistent\/c\.pem/);
});
