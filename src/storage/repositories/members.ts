import { sql } from 'kysely';
import type { Db } from '../db.ts';
import type { MemberTable } from '../schema.ts';
import { prepare } from '../prepared.ts';
import type { PiiVault } from '../../domain/pii.ts';
import { hashPassword, verifyNoAccount, verifyPassword } from '../../domain/passwords.ts';

/** Alipay members (users). Identity fields are sealed by the vault; see domain/pii.ts. */
export interface Member {
  user_id: string;
  login_id: string;
  name: string;
  cert_type: string;
  cert_no: string;
  mobile: string;
  certified: boolean;
  protected: boolean;
  created_at: number;
}

export interface NewMember extends Omit<Member, 'created_at'> {
  password: string;
}

function toMember(row: MemberTable, vault: PiiVault): Member {
  return {
    user_id: row.user_id,
    login_id: row.login_id,
    name: vault.decrypt(row.name_enc),
    cert_type: row.cert_type,
    cert_no: vault.decrypt(row.cert_no_enc),
    mobile: vault.decrypt(row.mobile_enc),
    certified: row.certified === 1,
    protected: row.protected === 1,
    created_at: row.created_at,
  };
}

export async function insertMember(db: Db, vault: PiiVault, m: NewMember, passwordHash?: string): Promise<Member> {
  const created_at = Date.now();
  await db
    .insertInto('members')
    .values({
      user_id: m.user_id,
      login_id: m.login_id,
      password_hash: passwordHash ?? (await hashPassword(m.password)),
      name_enc: vault.encrypt(m.name),
      cert_type: m.cert_type,
      cert_no_enc: vault.encrypt(m.cert_no),
      mobile_enc: vault.encrypt(m.mobile),
      identity_hash: vault.identityHash(m.name, m.cert_no, m.mobile),
      certified: m.certified ? 1 : 0,
      protected: m.protected ? 1 : 0,
      created_at,
    })
    .execute();
  const { password: _password, ...member } = m;
  return { ...member, created_at };
}

export async function listMembers(db: Db, vault: PiiVault): Promise<Member[]> {
  const rows = await db.selectFrom('members').selectAll().orderBy('created_at').orderBy('user_id').execute();
  return rows.map((r) => toMember(r, vault));
}

export async function findMember(db: Db, vault: PiiVault, userId: string): Promise<Member | undefined> {
  const row = await db.selectFrom('members').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && toMember(row, vault);
}

/** Login check; undefined for an unknown login or a wrong password alike. */
export async function authenticateMember(db: Db, vault: PiiVault, loginId: string, password: string): Promise<Member | undefined> {
  const row = await db.selectFrom('members').selectAll().where('login_id', '=', loginId).executeTakeFirst();
  if (!row) return verifyNoAccount(password);
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  return toMember(row, vault);
}

export async function findMemberByLogin(db: Db, vault: PiiVault, loginId: string): Promise<Member | undefined> {
  const row = await db.selectFrom('members').selectAll().where('login_id', '=', loginId).executeTakeFirst();
  return row && toMember(row, vault);
}

/**
 * The certified member whose name + ID number + mobile match exactly (by keyed hash): only
 * the user_id, so nothing sealed is decrypted on this hot path.
 */
export async function findCertifiedUserId(db: Db, vault: PiiVault, name: string, certNo: string, mobile: string): Promise<string | undefined> {
  const { rows } = await selectCertifiedUserId(db, vault.identityHash(name, certNo, mobile));
  return rows[0]?.user_id;
}

const selectCertifiedUserId = prepare((db: Db, identityHash: string) =>
  db.selectFrom('members').select('user_id').where('identity_hash', '=', identityHash).where('certified', '=', 1).limit(sql.lit(1)),
);

export async function updateMemberFlags(db: Db, userId: string, flags: { certified?: boolean; protected?: boolean }): Promise<boolean> {
  const set: { certified?: number; protected?: number } = {};
  if (flags.certified !== undefined) set.certified = flags.certified ? 1 : 0;
  if (flags.protected !== undefined) set.protected = flags.protected ? 1 : 0;
  if (Object.keys(set).length === 0) return true;
  const res = await db.updateTable('members').set(set).where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
