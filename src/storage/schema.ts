import type { Generated } from 'kysely';

/**
 * Table types shared by both engines. Times are epoch milliseconds (bigint in PostgreSQL,
 * parsed back to numbers); booleans are 0/1 integers; lists are JSON text — so one set of
 * queries runs unchanged on SQLite and PostgreSQL.
 */
export interface MetaTable {
  key: string;
  value: string;
}

export interface MemberTable {
  user_id: string;
  login_id: string;
  password_hash: string;
  /** AES-256-GCM ciphertexts (see domain/pii.ts); never the clear values. */
  name_enc: string;
  cert_type: string;
  cert_no_enc: string;
  mobile_enc: string;
  /** Keyed hash of name|cert_no|mobile, for identity matching without decrypting. */
  identity_hash: string;
  certified: number;
  protected: number;
  created_at: number;
}

export interface PartnerTable {
  partner: string;
  name: string;
  md5_key: string;
  rsa_public_key: string | null;
  dsa_public_key: string | null;
  /** The ISV side's private keys, kept only for sandbox partners so users can copy them. */
  rsa_private_key: string | null;
  dsa_private_key: string | null;
  platform_rsa_private_key: string;
  platform_rsa_public_key: string;
  platform_dsa_private_key: string;
  platform_dsa_public_key: string;
  services: string;
  allowed_domains: string;
  created_at: number;
}

export interface AppTable {
  app_id: string;
  name: string;
  sign_type: string;
  app_public_key: string;
  app_private_key: string | null;
  platform_private_key: string;
  platform_public_key: string;
  methods: string;
  /** Provider (服务商) PID the app belongs to; linked merchants must be theirs. */
  provider_id: string | null;
  isv_url: string;
  auth_code_ttl_seconds: number;
  token_policy: string;
  access_token_ttl_seconds: number;
  refresh_token_ttl_seconds: number;
  created_at: number;
}

export interface MerchantTable {
  merchant_id: string;
  name: string;
  provider_id: string | null;
  created_at: number;
}

export interface OperatorTable {
  operator_id: string;
  operator_type: string;
  operator_partner_id: string | null;
  name: string;
  login_id: string;
  password_hash: string;
  shop_ids: string;
  created_at: number;
}

export interface AuthCodeTable {
  code: string;
  app_id: string;
  operator_id: string;
  ext_info: string | null;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface BindRequestTable {
  id: string;
  partner: string;
  /** Hash of the signed request: the same signed URL twice is BIND_ERROR_REPEAT. */
  request_hash: string;
  params: string;
  user_id: string | null;
  decided_at: number | null;
  result: string | null;
  created_at: number;
}

export interface BindingTable {
  id: Generated<number>;
  partner: string;
  sns_user_id: string;
  user_id: string;
  type: string;
  bind_key: string;
  created_at: number;
}

export interface ZhimaAuthTable {
  id: Generated<number>;
  app_id: string;
  user_id: string;
  linked_merchant_id: string | null;
  created_at: number;
}

export interface TokenTable {
  access_token: string;
  refresh_token: string;
  app_id: string;
  user_id: string;
  auth_id: number;
  token_type: string;
  expires_at: number | null;
  re_expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface NotificationTable {
  id: Generated<number>;
  notify_id: string;
  gateway: string;
  owner: string;
  url: string;
  charset: string;
  /** The signed form body, exactly as each attempt posts it. */
  body: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_status: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface NotifyAttemptTable {
  id: Generated<number>;
  notification_id: number;
  at: number;
  http_status: number | null;
  body_excerpt: string | null;
  error: string | null;
}

export interface SmsTable {
  id: Generated<number>;
  user_id: string;
  mobile_enc: string;
  mobile_masked: string;
  content: string;
  created_at: number;
}

export interface RequestLogTable {
  id: Generated<number>;
  at: number;
  gateway: string;
  caller: string | null;
  method: string | null;
  http_method: string;
  params: string;
  response: string | null;
  code: string | null;
  sub_code: string | null;
  latency_ms: number;
  diagnosis: string | null;
  trace_id: string;
}

export interface FaultTable {
  id: Generated<number>;
  target: string;
  code: string | null;
  sub_code: string | null;
  sub_msg: string | null;
  latency_ms: number;
  remaining: number | null;
  probability: number | null;
  created_at: number;
}

export interface SessionTable {
  id: string;
  kind: string;
  subject: string | null;
  csrf: string;
  data: string;
  expires_at: number;
}

export interface Database {
  meta: MetaTable;
  members: MemberTable;
  partners: PartnerTable;
  apps: AppTable;
  merchants: MerchantTable;
  operators: OperatorTable;
  auth_codes: AuthCodeTable;
  bind_requests: BindRequestTable;
  bindings: BindingTable;
  zhima_auths: ZhimaAuthTable;
  tokens: TokenTable;
  notifications: NotificationTable;
  notify_attempts: NotifyAttemptTable;
  sms: SmsTable;
  request_log: RequestLogTable;
  faults: FaultTable;
  sessions: SessionTable;
}
