import type { Db } from '../db.ts';
import type { PartnerTable } from '../schema.ts';
import { forgetCachedRows, RowCache } from '../row-cache.ts';

/** MAPI partners (PIDs): their keys, the platform keys we sign with for them, their services. */
export interface Partner extends Omit<PartnerTable, 'services' | 'allowed_domains'> {
  services: string[];
  allowed_domains: string[];
}

function toPartner(row: PartnerTable): Partner {
  return { ...row, services: JSON.parse(row.services), allowed_domains: JSON.parse(row.allowed_domains) };
}

export async function insertPartner(db: Db, p: Omit<Partner, 'created_at'>): Promise<Partner> {
  const created_at = Date.now();
  await db
    .insertInto('partners')
    .values({ ...p, services: JSON.stringify(p.services), allowed_domains: JSON.stringify(p.allowed_domains), created_at })
    .execute();
  return { ...p, created_at };
}

export async function findPartner(db: Db, partner: string): Promise<Partner | undefined> {
  const row = await db.selectFrom('partners').selectAll().where('partner', '=', partner).executeTakeFirst();
  return row && toPartner(row);
}

const cachedPartners = new RowCache<Partner>();

/** findPartner through the row cache: the MAPI gateway reads the caller's partner on every call. */
export function findCachedPartner(db: Db, partner: string): Promise<Partner | undefined> {
  return cachedPartners.get(db, partner, () => findPartner(db, partner));
}

export async function listPartners(db: Db): Promise<Partner[]> {
  return (await db.selectFrom('partners').selectAll().orderBy('created_at').execute()).map(toPartner);
}

export async function updatePartner(db: Db, partner: string, patch: Partial<Omit<Partner, 'partner' | 'created_at'>>): Promise<boolean> {
  const { services, allowed_domains, ...rest } = patch;
  const res = await db
    .updateTable('partners')
    .set({
      ...rest,
      ...(services && { services: JSON.stringify(services) }),
      ...(allowed_domains && { allowed_domains: JSON.stringify(allowed_domains) }),
    })
    .where('partner', '=', partner)
    .executeTakeFirst();
  forgetCachedRows();
  return Number(res.numUpdatedRows) > 0;
}
