import { randomBytes, randomInt } from 'node:crypto';

/** Identifiers in the shapes Alipay uses. */

/** user_id / partner / merchant: 2088 + 12 digits. */
export function newPid(): string {
  let digits = '2088';
  for (let i = 0; i < 12; i++) digits += randomInt(10);
  return digits;
}

/** OpenAPI app_id: 16 digits, sandbox apps start 2021000 like Alipay's. */
export function newAppId(): string {
  let digits = '2021000';
  for (let i = 0; i < 9; i++) digits += randomInt(10);
  return digits;
}

/**
 * CSPRNG bytes handed out from a 4 KiB pool, each byte once: one OpenSSL call per couple
 * of hundred ids instead of one per id (several ids are made per gateway call).
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let taken = 0;

function randomChunk(bytes: number): Buffer {
  if (taken + bytes > pool.length) {
    pool = randomBytes(Math.max(POOL_SIZE, bytes));
    taken = 0;
  }
  taken += bytes;
  return pool.subarray(taken - bytes, taken);
}

export function hex(bytes: number): string {
  return randomChunk(bytes).toString('hex');
}

/** 40 chars: `yyyyMMdd` + 32 hex, the shape of Alipay tokens and binding keys in the seeds. */
export function datedToken(now = new Date()): string {
  const d = now.toISOString().slice(0, 10).replace(/-/g, '');
  return d + hex(16);
}

/** GB 11643-1999 check digit of an 18-character resident ID number. */
export function idCheckDigit(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i];
  return '10X98765432'[sum % 11];
}

export function isValidIdNumber(v: string): boolean {
  return /^\d{17}[\dX]$/.test(v) && idCheckDigit(v.slice(0, 17)) === v[17];
}

/** yyyy-MM-dd HH:mm:ss in Beijing time (GMT+8), Alipay's wire format for times. */
export function beijingTime(ms = Date.now()): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
