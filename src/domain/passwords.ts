import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt (a slow, memory-hard hash from node:crypto), run on the thread pool. */
const N = 16384;

function derive(password: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: n, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N);
  return `scrypt$${N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(n));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | undefined;

/**
 * For a login id with no account: spends the time of a real check, so how fast a wrong
 * login is refused does not tell whether the login id exists.
 */
export async function verifyNoAccount(password: string): Promise<undefined> {
  dummyHash ??= hashPassword('gatewaydo: no such account');
  await verifyPassword(password, await dummyHash);
  return undefined;
}
