import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parsePrivateKey, parsePublicKey, type KeyKind } from '../crypto/keys.ts';
import { hex, isValidIdNumber, newPid } from '../domain/ids.ts';
import { hashPassword } from '../domain/passwords.ts';
import { MAPI_SERVICES, OPENAPI_METHODS } from '../services/names.ts';
import { OPERATOR_TYPES } from '../storage/repositories/koubei.ts';
import { newApp, newMember, newPartner, type SandboxOperator, type SandboxSpec } from './spec.ts';

/**
 * Seed files (`gatewaydo serve --seed sandbox.yaml`, `startGateway({ seed })`): the sandbox
 * as a person writes it — plain passwords, optional ids and keys, defaults for the rest —
 * checked against a schema whose complaints name the file and line, then turned into a
 * SandboxSpec (passwords hashed, missing ids and keys generated). YAML or JSON (JSON is YAML).
 */
export class SeedError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** YAML reads 2088… and 13588111111 as integers; ids, mobiles and ID numbers are text. */
const text = () => z.preprocess((v) => (typeof v === 'bigint' ? String(v) : v), z.string());
const int = () => z.preprocess((v) => (typeof v === 'bigint' ? Number(v) : v), z.number().int());

const pid = text().pipe(z.string().regex(/^2088\d{12}$/, 'must be 2088 followed by 12 digits'));
const password = z.string().min(6, 'must be at least 6 characters').max(128);

function keyCheck(parse: (k: string, kind: KeyKind) => unknown, kind: KeyKind, what: string) {
  return z.string().max(8192).refine((k) => {
    try {
      parse(k, kind);
      return true;
    } catch {
      return false;
    }
  }, `must be ${kind === 'rsa' ? 'an RSA' : 'a DSA'} ${what} key (PEM or bare base64)`);
}
const privateKey = (kind: KeyKind) => keyCheck(parsePrivateKey, kind, 'private');
const publicKey = (kind: KeyKind) => keyCheck(parsePublicKey, kind, 'public');

const appSchema = z.strictObject({
  app_id: text().pipe(z.string().regex(/^\d{16}$/, 'must be 16 digits')).optional(),
  name: z.string().min(1).max(64).optional(),
  sign_type: z.enum(['RSA2', 'RSA']).default('RSA2'),
  app_private_key: privateKey('rsa').optional(),
  app_public_key: publicKey('rsa').optional(),
  /** What the gateway signs answers with; its public half is the app's alipay_public_key. */
  alipay_private_key: privateKey('rsa').optional(),
  methods: z.array(z.enum(OPENAPI_METHODS)).optional(),
  provider_id: pid.nullable().optional(),
  isv_url: z.string().max(512).optional(),
  auth_code_ttl_seconds: int().pipe(z.number().min(1).max(86_400)).optional(),
  token_policy: z.enum(['permanent', 'expiring']).optional(),
  access_token_ttl_seconds: int().pipe(z.number().min(1).max(315_360_000)).optional(),
  refresh_token_ttl_seconds: int().pipe(z.number().min(1).max(315_360_000)).optional(),
});

const partnerSchema = z.strictObject({
  partner: pid.optional(),
  name: z.string().min(1).max(64).optional(),
  md5_key: text().pipe(z.string().regex(/^[0-9A-Za-z]{16,64}$/, 'must be 16-64 letters or digits')).optional(),
  rsa_private_key: privateKey('rsa').optional(),
  rsa_public_key: publicKey('rsa').optional(),
  dsa_private_key: privateKey('dsa').optional(),
  dsa_public_key: publicKey('dsa').optional(),
  alipay_rsa_private_key: privateKey('rsa').optional(),
  alipay_dsa_private_key: privateKey('dsa').optional(),
  services: z.array(z.enum(MAPI_SERVICES)).optional(),
  allowed_domains: z.array(z.string().min(1).max(253)).optional(),
});

const memberSchema = z.strictObject({
  user_id: pid.optional(),
  login_id: text().pipe(
    z.string().max(100).refine((v) => /^[^@\s]+@[^@\s]+$/.test(v) || /^1\d{10}$/.test(v), 'must be an email or an 11-digit mobile'),
  ),
  password,
  name: z.string().min(1).max(16),
  cert_type: z.literal('IDENTITY_CARD').default('IDENTITY_CARD'),
  cert_no: text().pipe(z.string().refine(isValidIdNumber, 'must be an 18-character ID number with a valid check digit')),
  mobile: text().pipe(z.string().regex(/^1\d{10}$/, 'must be an 11-digit mobile number')),
  certified: z.boolean().default(true),
  protected: z.boolean().default(false),
  role: z.string().max(64).default(''),
});

const merchantSchema = z.strictObject({
  merchant_id: pid.optional(),
  name: z.string().min(1).max(64).default('口碑商户'),
  provider_id: pid.nullable().default(null),
});

const operatorSchema = z.strictObject({
  operator_id: pid.optional(),
  operator_type: z.enum(OPERATOR_TYPES),
  operator_partner_id: pid.nullable().default(null),
  name: z.string().min(1).max(64).optional(),
  login_id: text().pipe(z.string().min(3).max(100)),
  password,
  shop_ids: z.array(text().pipe(z.string().regex(/^\d{1,32}$/, 'must be digits'))).default([]),
});

type Section = 'apps' | 'partners' | 'members' | 'merchants' | 'operators';

/** Fields that must not repeat within a section (they are keys in the database). */
const UNIQUE: Array<[Section, string]> = [
  ['apps', 'app_id'], ['partners', 'partner'], ['members', 'user_id'], ['members', 'login_id'],
  ['merchants', 'merchant_id'], ['operators', 'operator_id'], ['operators', 'login_id'],
];

/** A pair given in full must be one pair. */
const PAIRS: Array<[Section, string, string]> = [
  ['apps', 'app_private_key', 'app_public_key'],
  ['partners', 'rsa_private_key', 'rsa_public_key'],
  ['partners', 'dsa_private_key', 'dsa_public_key'],
];

export const seedSchema = z
  .strictObject({
    admin_token: text().pipe(z.string().regex(/^[\x21-\x7e]{16,128}$/, 'must be 16-128 printable ASCII characters')).optional(),
    apps: z.array(appSchema).default([]),
    partners: z.array(partnerSchema).default([]),
    members: z.array(memberSchema).default([]),
    merchants: z.array(merchantSchema).default([]),
    operators: z.array(operatorSchema).default([]),
  })
  .superRefine((seed, ctx) => {
    for (const [section, field] of UNIQUE) {
      const first = new Map<string, number>();
      (seed[section] as Array<Record<string, unknown>>).forEach((item, i) => {
        const value = item[field];
        if (typeof value !== 'string') return;
        const seen = first.get(value);
        if (seen === undefined) first.set(value, i);
        else ctx.addIssue({ code: 'custom', path: [section, i, field], message: `${value} is already used by ${section}[${seen}]` });
      });
    }
    for (const [section, priv, pub] of PAIRS) {
      (seed[section] as Array<Record<string, string | undefined>>).forEach((item, i) => {
        if (item[priv] && item[pub] && !samePublicKey(publicHalf(item[priv]), item[pub])) {
          ctx.addIssue({ code: 'custom', path: [section, i, pub], message: `is not the public half of ${priv}` });
        }
      });
    }
  });

export type SeedInput = z.input<typeof seedSchema>;
type Seed = z.output<typeof seedSchema>;

function publicHalf(privatePem: string): string {
  return createPublicKey(parsePrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString();
}

function samePublicKey(a: string, b: string): boolean {
  return parsePublicKey(a).export({ type: 'spki', format: 'der' }).equals(parsePublicKey(b).export({ type: 'spki', format: 'der' }));
}

/** Messages a person can act on, for the issues zod words for programmers. */
const friendlyErrors: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'object') return 'must be a mapping of fields';
      if (issue.expected === 'array') return 'must be a list';
      return `must be a ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.join(', ')}`}`;
    default:
      return undefined;
  }
};

/** `members[1].cert_no` */
function describePath(path: PropertyKey[]): string {
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)), '') || '(top level)';
}

/** Offset of the deepest node the path reaches: a field's key, or its item when the field is missing. */
function offsetOf(doc: Document, path: PropertyKey[]): number {
  let node: unknown = doc.contents;
  let offset = isMap(node) || isSeq(node) || isScalar(node) ? (node.range?.[0] ?? 0) : 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (isScalar(pair.key) && pair.key.range?.[0]) || offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      offset = ((isMap(node) || isSeq(node) || isScalar(node)) && node.range?.[0]) || offset;
    } else break;
  }
  return offset;
}

/** Checks seed data; each problem is `<where the path is>: path: message`, in file order. */
function check(data: unknown, where: (path: PropertyKey[]) => { label: string; line: number }): Seed {
  const result = seedSchema.safeParse(data ?? {}, { error: friendlyErrors });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // An unknown field is reported at the field itself, not at the mapping holding it.
    const at = where(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path);
    return { ...at, text: `${at.label}: ${describePath(issue.path)}: ${issue.message}` };
  });
  problems.sort((a, b) => a.line - b.line);
  throw new SeedError(problems.map((p) => p.text));
}

/** Parses and checks seed text (YAML or JSON); problems read `file:line: path: message`. */
export function parseSeed(source: string, file: string): Seed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, intAsBigInt: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SeedError(doc.errors.map((e) => `${file}:${lineCounter.linePos(e.pos[0]).line}: ${e.message}`));
  }
  return check(doc.toJS(), (path) => {
    const line = lineCounter.linePos(offsetOf(doc, path)).line;
    return { label: `${file}:${line}`, line };
  });
}

function present<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A key pair as the seed gives it: a private key implies its public half; a public key
 * alone means its owner keeps the private half to itself; nothing means "generate".
 */
function givenPair(privateKey: string | undefined, publicKey?: string): { privateKey: string | null; publicKey: string } | undefined {
  if (privateKey === undefined && publicKey === undefined) return undefined;
  return { privateKey: privateKey ?? null, publicKey: publicKey ?? publicHalf(privateKey!) };
}

/** The spec a checked seed describes: passwords hashed, public halves derived, the rest generated. */
export async function specFromSeed(seed: Seed): Promise<SandboxSpec> {
  const apps = await Promise.all(
    seed.apps.map(({ alipay_private_key, app_private_key, app_public_key, ...app }) => {
      const [isv, platform] = [givenPair(app_private_key, app_public_key), givenPair(alipay_private_key)];
      return newApp({
        ...present(app),
        ...(isv && { app_private_key: isv.privateKey, app_public_key: isv.publicKey }),
        ...(platform && { platform_private_key: platform.privateKey!, platform_public_key: platform.publicKey }),
      });
    }),
  );
  const partners = await Promise.all(
    seed.partners.map(({ rsa_private_key, rsa_public_key, dsa_private_key, dsa_public_key, alipay_rsa_private_key, alipay_dsa_private_key, ...p }) => {
      const [rsa, dsa] = [givenPair(rsa_private_key, rsa_public_key), givenPair(dsa_private_key, dsa_public_key)];
      const [platformRsa, platformDsa] = [givenPair(alipay_rsa_private_key), givenPair(alipay_dsa_private_key)];
      return newPartner({
        ...present(p),
        ...(rsa && { rsa_private_key: rsa.privateKey, rsa_public_key: rsa.publicKey }),
        ...(dsa && { dsa_private_key: dsa.privateKey, dsa_public_key: dsa.publicKey }),
        ...(platformRsa && { platform_rsa_private_key: platformRsa.privateKey!, platform_rsa_public_key: platformRsa.publicKey }),
        ...(platformDsa && { platform_dsa_private_key: platformDsa.privateKey!, platform_dsa_public_key: platformDsa.publicKey }),
      });
    }),
  );
  const members = await Promise.all(seed.members.map((m) => newMember(present(m) as typeof m)));
  const merchants = seed.merchants.map((m) => ({ ...m, merchant_id: m.merchant_id ?? newPid() }));
  const operators = await Promise.all(
    seed.operators.map(async (o): Promise<SandboxOperator> => ({
      ...o,
      operator_id: o.operator_id ?? newPid(),
      name: o.name ?? o.login_id,
      password_hash: await hashPassword(o.password),
    })),
  );
  return { admin_token: seed.admin_token ?? hex(24), apps, partners, members, merchants, operators };
}

/** A seed written inline (an object in the seed file's shape), e.g. in a test suite. */
export function seedSpec(input: SeedInput): Promise<SandboxSpec> {
  return specFromSeed(check(input, () => ({ label: 'seed', line: 0 })));
}

/** Reads, checks and expands a seed file (YAML or JSON). */
export async function loadSeedFile(file: string): Promise<SandboxSpec> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw new SeedError([`${file}: cannot read the seed file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return specFromSeed(parseSeed(source, file));
}
