import type { Db } from '../db.ts';
import type { PiiVault } from '../../domain/pii.ts';
import { maskMobile } from '../../domain/pii.ts';

/** SMS notices queued for members (the sandbox inbox shows them): the mobile sealed, plus its mask. */
export interface SmsNotice {
  id: number;
  user_id: string;
  mobile_masked: string;
  content: string;
  created_at: number;
}

export async function queueSms(db: Db, vault: PiiVault, s: { user_id: string; mobile: string; content: string; now: number }): Promise<void> {
  await db
    .insertInto('sms')
    .values({ user_id: s.user_id, mobile_enc: vault.encrypt(s.mobile), mobile_masked: maskMobile(s.mobile), content: s.content, created_at: s.now })
    .execute();
}

/** Newest first; never the sealed mobile. */
export async function listSms(db: Db, limit = 100): Promise<SmsNotice[]> {
  return db
    .selectFrom('sms')
    .select(['id', 'user_id', 'mobile_masked', 'content', 'created_at'])
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(limit, 1), 1000))
    .execute();
}
