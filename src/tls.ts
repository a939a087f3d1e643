import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import type { GatewayConfig } from './config.ts';

/**
 * HTTPS material for the server: the user's PEM files, or a self-signed certificate for
 * local use (`--tls self-signed`), made once and kept in the data dir so a client that
 * was told to trust it keeps working after a restart. In-memory gateways make a new one.
 */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where the certificate is, for the user to trust; undefined for an in-memory one. */
  certFile?: string;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The names a local client may use: localhost, the loopback addresses, and the bound host. */
function altNames(host: string) {
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  return [...names]
    .filter((n) => n !== '' && n !== '0.0.0.0' && n !== '::')
    .map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
}

async function selfSigned(host: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'gatewaydo local' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames(host) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A kept certificate is reused while it is valid and still names the host we bind. */
function usable(cert: string, host: string): boolean {
  try {
    const x509 = new X509Certificate(cert);
    const hostOk = host === '0.0.0.0' || host === '::' || (isIP(host) ? x509.checkIP(host) : x509.checkHost(host)) !== undefined;
    return hostOk && Date.parse(x509.validTo) > Date.now() + 86_400_000;
  } catch {
    return false;
  }
}

export async function loadTls(config: GatewayConfig): Promise<TlsMaterial | undefined> {
  const source = config.tls;
  if (!source) return undefined;
  if (source.kind === 'files') {
    return { cert: readPem(source.certFile, 'certificate'), key: readPem(source.keyFile, 'key'), certFile: source.certFile };
  }
  if (!config.dataDir) return selfSigned(config.host);
  const dir = join(config.dataDir, 'tls');
  const certFile = join(dir, 'self-signed.crt');
  const keyFile = join(dir, 'self-signed.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const kept = { cert: readPem(certFile, 'certificate'), key: readPem(keyFile, 'key'), certFile };
    if (usable(kept.cert, config.host)) return kept;
  }
  const made = await selfSigned(config.host);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  writeFileSync(certFile, made.cert);
  return { ...made, certFile };
}
