import { generateDsaKeyPair, generateRsaKeyPair } from '../crypto/keys.ts';
import { hex, idCheckDigit, newAppId, newPid } from '../domain/ids.ts';
import { hashPassword } from '../domain/passwords.ts';
import { OPENAPI_METHODS, MAPI_SERVICES } from '../services/names.ts';
import type { OperatorType } from '../storage/repositories/koubei.ts';

/**
 * Everything the sandbox is made of, with fixed ids, keys and passwords, so a reset (or a
 * seed file) recreates exactly the same world. Stored sealed in the database (meta).
 */
export interface SandboxApp {
  app_id: string;
  name: string;
  sign_type: 'RSA2' | 'RSA';
  app_private_key: string | null;
  app_public_key: string;
  platform_private_key: string;
  platform_public_key: string;
  methods: string[];
  provider_id: string | null;
  isv_url: string;
  auth_code_ttl_seconds: number;
  token_policy: 'permanent' | 'expiring';
  access_token_ttl_seconds: number;
  refresh_token_ttl_seconds: number;
}

export interface SandboxPartner {
  partner: string;
  name: string;
  md5_key: string;
  rsa_private_key: string | null;
  rsa_public_key: string | null;
  dsa_private_key: string | null;
  dsa_public_key: string | null;
  platform_rsa_private_key: string;
  platform_rsa_public_key: string;
  platform_dsa_private_key: string;
  platform_dsa_public_key: string;
  services: string[];
  allowed_domains: string[];
}

export interface SandboxMember {
  user_id: string;
  login_id: string;
  password: string;
  password_hash: string;
  name: string;
  cert_type: string;
  cert_no: string;
  mobile: string;
  certified: boolean;
  protected: boolean;
  /** What this account is for, shown in the console and the summary. */
  role: string;
}

export interface SandboxMerchant {
  merchant_id: string;
  name: string;
  provider_id: string | null;
}

export interface SandboxOperator {
  operator_id: string;
  operator_type: OperatorType;
  operator_partner_id: string | null;
  name: string;
  login_id: string;
  password: string;
  password_hash: string;
  shop_ids: string[];
}

export interface SandboxSpec {
  admin_token: string;
  apps: SandboxApp[];
  partners: SandboxPartner[];
  members: SandboxMember[];
  merchants: SandboxMerchant[];
  operators: SandboxOperator[];
}

export const DEFAULT_AUTH_CODE_TTL_SECONDS = 600;

/** A key pair unless the caller brings its own (seed files pin keys; generating one costs ~100 ms). */
function pairUnless<T>(given: unknown, generate: () => Promise<T>): Promise<T | { privateKey: null; publicKey: '' }> {
  return given ? Promise.resolve({ privateKey: null, publicKey: '' }) : generate();
}

/** A fresh app, keys generated unless given (used by the sandbox, seed files and the admin API). */
export async function newApp(overrides: Partial<SandboxApp> = {}): Promise<SandboxApp> {
  const [appKeys, platformKeys] = await Promise.all([
    pairUnless(overrides.app_public_key, generateRsaKeyPair),
    pairUnless(overrides.platform_private_key, generateRsaKeyPair),
  ]);
  return {
    app_id: newAppId(),
    name: '沙箱应用',
    sign_type: 'RSA2',
    app_private_key: appKeys.privateKey,
    app_public_key: appKeys.publicKey,
    platform_private_key: platformKeys.privateKey ?? '',
    platform_public_key: platformKeys.publicKey,
    methods: [...OPENAPI_METHODS],
    provider_id: null,
    isv_url: '/sandbox/isv',
    auth_code_ttl_seconds: DEFAULT_AUTH_CODE_TTL_SECONDS,
    token_policy: 'expiring',
    access_token_ttl_seconds: 1_296_000,
    refresh_token_ttl_seconds: 2_592_000,
    ...overrides,
  };
}

/** A fresh MAPI partner with an MD5 key and RSA + DSA pairs on both sides, generated unless given. */
export async function newPartner(overrides: Partial<SandboxPartner> = {}): Promise<SandboxPartner> {
  const [rsa, dsa, platformRsa, platformDsa] = await Promise.all([
    pairUnless(overrides.rsa_public_key, generateRsaKeyPair),
    pairUnless(overrides.dsa_public_key, generateDsaKeyPair),
    pairUnless(overrides.platform_rsa_private_key, generateRsaKeyPair),
    pairUnless(overrides.platform_dsa_private_key, generateDsaKeyPair),
  ]);
  return {
    partner: newPid(),
    name: '沙箱合作伙伴',
    md5_key: hex(16),
    rsa_private_key: rsa.privateKey,
    rsa_public_key: rsa.publicKey,
    dsa_private_key: dsa.privateKey,
    dsa_public_key: dsa.publicKey,
    platform_rsa_private_key: platformRsa.privateKey ?? '',
    platform_rsa_public_key: platformRsa.publicKey,
    platform_dsa_private_key: platformDsa.privateKey ?? '',
    platform_dsa_public_key: platformDsa.publicKey,
    services: [...MAPI_SERVICES],
    allowed_domains: [],
    ...overrides,
  };
}

function idNumber(region: string, birth: string, seq: string): string {
  const first17 = region + birth + seq;
  return first17 + idCheckDigit(first17);
}

export async function newMember(m: Omit<SandboxMember, 'password_hash' | 'user_id' | 'role'> & { user_id?: string; role?: string }): Promise<SandboxMember> {
  return { ...m, user_id: m.user_id ?? newPid(), role: m.role ?? '', password_hash: await hashPassword(m.password) };
}

/** The first-start sandbox: one app, one partner, the test members, one Koubei merchant with staff. */
export async function generateSandboxSpec(): Promise<SandboxSpec> {
  const [partner, provider] = [await newPartner(), newPid()];
  const app = await newApp({ provider_id: provider });
  const members = await Promise.all([
    newMember({ role: 'certified buyer', login_id: 'buyer@sandbox.gatewaydo', password: 'buyer123', name: '张三', cert_type: 'IDENTITY_CARD', cert_no: idNumber('330701', '19900101', '131'), mobile: '13588111111', certified: true, protected: false }),
    newMember({ role: 'certified seller', login_id: 'seller@sandbox.gatewaydo', password: 'seller123', name: '李四', cert_type: 'IDENTITY_CARD', cert_no: idNumber('110101', '19850615', '242'), mobile: '13900002222', certified: true, protected: false }),
    newMember({ role: 'uncertified', login_id: 'uncertified@sandbox.gatewaydo', password: 'uncert123', name: '王五', cert_type: 'IDENTITY_CARD', cert_no: idNumber('440305', '19920303', '353'), mobile: '13700003333', certified: false, protected: false }),
    newMember({ role: 'protected account', login_id: 'protected@sandbox.gatewaydo', password: 'protect123', name: '赵六', cert_type: 'IDENTITY_CARD', cert_no: idNumber('310104', '19880808', '464'), mobile: '13600004444', certified: true, protected: true }),
  ]);
  const merchant: SandboxMerchant = { merchant_id: newPid(), name: '沙箱口碑商户', provider_id: provider };
  const operatorSpecs: Array<[OperatorType, string | null, string]> = [
    ['PROVIDER', provider, '沙箱服务商'],
    ['PROVIDER_STAFF', provider, '服务商员工'],
    ['MER', merchant.merchant_id, '商户'],
    ['MER_STAFF', merchant.merchant_id, '商户员工'],
    ['SALES', null, '口碑销售小二'],
  ];
  const password = 'koubei123';
  const passwordHash = await hashPassword(password);
  const operators: SandboxOperator[] = operatorSpecs.map(([type, partnerId, name]) => ({
    operator_id: type === 'PROVIDER' ? provider : type === 'MER' ? merchant.merchant_id : newPid(),
    operator_type: type,
    operator_partner_id: partnerId,
    name,
    login_id: `${type.toLowerCase().replace('_', '-')}@koubei.sandbox`,
    password,
    password_hash: passwordHash,
    shop_ids: type === 'MER_STAFF' ? ['2018' + hex(6).slice(0, 12)] : [],
  }));
  return { admin_token: hex(24), apps: [app], partners: [partner], members, merchants: [merchant], operators };
}
