import type { Db } from '../db.ts';
import type { MerchantTable, OperatorTable } from '../schema.ts';
import { verifyNoAccount, verifyPassword } from '../../domain/passwords.ts';
import { prepare } from '../prepared.ts';

/** Koubei merchants and their operators (PROVIDER, PROVIDER_STAFF, MER, MER_STAFF, SALES). */
export const OPERATOR_TYPES = ['PROVIDER', 'PROVIDER_STAFF', 'MER', 'MER_STAFF', 'SALES'] as const;
export type OperatorType = (typeof OPERATOR_TYPES)[number];

export type Merchant = MerchantTable;

export interface Operator extends Omit<OperatorTable, 'shop_ids' | 'password_hash' | 'operator_type'> {
  operator_type: OperatorType;
  shop_ids: string[];
}

function toOperator(row: OperatorTable): Operator {
  const { password_hash: _hash, ...rest } = row;
  return { ...rest, operator_type: row.operator_type as OperatorType, shop_ids: JSON.parse(row.shop_ids) };
}

export async function insertMerchant(db: Db, m: Omit<Merchant, 'created_at'>): Promise<Merchant> {
  const row = { ...m, created_at: Date.now() };
  await db.insertInto('merchants').values(row).execute();
  return row;
}

export async function findMerchant(db: Db, merchantId: string): Promise<Merchant | undefined> {
  return db.selectFrom('merchants').selectAll().where('merchant_id', '=', merchantId).executeTakeFirst();
}

export async function listMerchants(db: Db): Promise<Merchant[]> {
  return db.selectFrom('merchants').selectAll().orderBy('created_at').execute();
}

export async function insertOperator(db: Db, o: Omit<Operator, 'created_at'>, passwordHash: string): Promise<Operator> {
  const created_at = Date.now();
  await db
    .insertInto('operators')
    .values({ ...o, shop_ids: JSON.stringify(o.shop_ids), password_hash: passwordHash, created_at })
    .execute();
  return { ...o, created_at };
}

const selectOperator = prepare((db: Db, operatorId: string) => db.selectFrom('operators').selectAll().where('operator_id', '=', operatorId));

export async function findOperator(db: Db, operatorId: string): Promise<Operator | undefined> {
  const [row] = (await selectOperator(db, operatorId)).rows;
  return row && toOperator(row);
}

export async function listOperators(db: Db): Promise<Operator[]> {
  return (await db.selectFrom('operators').selectAll().orderBy('created_at').execute()).map(toOperator);
}

export async function authenticateOperator(db: Db, loginId: string, password: string): Promise<Operator | undefined> {
  const row = await db.selectFrom('operators').selectAll().where('login_id', '=', loginId).executeTakeFirst();
  if (!row) return verifyNoAccount(password);
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  return toOperator(row);
}
