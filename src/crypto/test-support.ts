/**
 * Shared fixtures for the src/crypto tests (not itself a test file): key pairs in every form
 * Alipay users hold them, and thin wrappers over the openssl / md5sum command lines used as
 * independent oracles.
 */
import { generateKeyPair } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pemBody } from './keys.ts';

const generate = promisify(generateKeyPair);

export interface RsaFixture {
  bits: number;
  pkcs1Pem: string;
  pkcs8Pem: string;
  spkiPem: string;
  /** PKCS#1 RSAPublicKey PEM (`BEGIN RSA PUBLIC KEY`). */
  pkcs1PublicPem: string;
  /** Bare base64 DER bodies, as the Alipay console shows keys. */
  pkcs1Bare: string;
  pkcs8Bare: string;
  spkiBare: string;
  pkcs1PublicBare: string;
}

export async function rsaFixture(bits = 2048): Promise<RsaFixture> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: bits });
  const pkcs1Pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pkcs1PublicPem = publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    bits,
    pkcs1Pem,
    pkcs8Pem,
    spkiPem,
    pkcs1PublicPem,
    pkcs1Bare: pemBody(pkcs1Pem),
    pkcs8Bare: pemBody(pkcs8Pem),
    spkiBare: pemBody(spkiPem),
    pkcs1PublicBare: pemBody(pkcs1PublicPem),
  };
}

export interface DsaFixture {
  pkcs8Pem: string;
  spkiPem: string;
  pkcs8Bare: string;
  spkiBare: string;
}

export async function dsaFixture(): Promise<DsaFixture> {
  const { privateKey, publicKey } = await generate('dsa', { modulusLength: 1024, divisorLength: 160 });
  const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { pkcs8Pem, spkiPem, pkcs8Bare: pemBody(pkcs8Pem), spkiBare: pemBody(spkiPem) };
}

/** A scratch directory under os.tmpdir(); `file` writes into it and returns the path. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatewaydo-crypto-'));
  private n = 0;

  file(contents: Buffer | string, name = `f${this.n++}`): string {
    const path = join(this.dir, name);
    writeFileSync(path, contents);
    return path;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'buffer' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `openssl dgst -<digest> -verify pub.pem -signature sig.bin file` → true iff "Verified OK". */
export function opensslVerify(s: Scratch, digest: 'sha1' | 'sha256', publicPem: string, signatureB64: string, data: Buffer): boolean {
  const r = run('openssl', [
    'dgst',
    `-${digest}`,
    '-verify',
    s.file(publicPem),
    '-signature',
    s.file(Buffer.from(signatureB64, 'base64')),
    s.file(data),
  ]);
  const out = r.stdout.toString();
  // Both must agree; a mismatch would mean the harness itself is broken.
  if ((r.status === 0) !== out.includes('Verified OK')) throw new Error(`odd openssl answer: ${r.status} ${out} ${r.stderr}`);
  return r.status === 0;
}

/** `openssl dgst -<digest> -sign key.pem file`, as base64. */
export function opensslSign(s: Scratch, digest: 'sha1' | 'sha256', privatePem: string, data: Buffer): string {
  const r = run('openssl', ['dgst', `-${digest}`, '-sign', s.file(privatePem), s.file(data)]);
  if (r.status !== 0) throw new Error(`openssl dgst -sign failed: ${r.stderr}`);
  return r.stdout.toString('base64');
}

/** `md5sum file` → the lower-case hex digest. */
export function md5sum(s: Scratch, data: Buffer): string {
  const r = run('md5sum', [s.file(data)]);
  if (r.status !== 0) throw new Error(`md5sum failed: ${r.stderr}`);
  const hex = r.stdout.toString().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`odd md5sum output: ${r.stdout.toString()}`);
  return hex;
}
