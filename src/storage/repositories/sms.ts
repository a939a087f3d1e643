import type { Db } from '../db.ts';
import type { PiiVault } from '../../domain/pii.ts';
import { maskMobile } from '../../domain/pii.ts';
import { prepare } from '../prepared.ts';

/** SMS notices queued for members (the sandbox inbox shows them): the mobile sealed, plus its mask. */
export interface SmsNotice {
  id: number;
  user_id: string;
  mobile_masked: string;
  content: string;
  created_at: number;
}

const insertSms = prepare((db: Db, userId: string, mobileEnc: string, mobileMasked: string, content: string, now: number) =>
  db.insertInto('sms').values({ user_id: userId, mobile_enc: mobileEnc, mobile_masked: mobileMasked, content, created_at: now }),
);

export async function queueSms(db: Db, vault: PiiVault, s: { user_id: string; mobile: string; content: string; now: number }): Promise<void> {
  await insertSms(db, s.user_id, vault.encrypt(s.mobile), maskMobile(s.mobile), s.content, s.now);
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
