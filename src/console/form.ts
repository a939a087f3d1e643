import { CharsetError } from '../crypto/charset.ts';
import { FormEncodingError, parseForm, type FormPairs } from '../crypto/form.ts';

/** A malformed form body: the page answers 400 instead of acting on half-read input. */
export class BadForm extends Error {}

/**
 * A posted console form (utf-8 application/x-www-form-urlencoded), read the way the
 * operations want their input: blank fields are absent, checkboxes are booleans.
 */
export class ConsoleForm {
  private constructor(private readonly pairs: FormPairs) {}

  static parse(body: unknown): ConsoleForm {
    if (body === undefined || body === null) return new ConsoleForm([]);
    if (!Buffer.isBuffer(body)) throw new BadForm('expected a form body');
    try {
      return new ConsoleForm(parseForm(body.toString('latin1'), 'utf-8'));
    } catch (err) {
      if (err instanceof FormEncodingError || err instanceof CharsetError) throw new BadForm(err.message);
      throw err;
    }
  }

  /** The first value as sent, or undefined. */
  raw(name: string): string | undefined {
    return this.pairs.find(([k]) => k === name)?.[1];
  }

  /** The trimmed value; an empty field is absent. */
  text(name: string): string | undefined {
    const v = this.raw(name)?.trim();
    return v === '' ? undefined : v;
  }

  /** A number field; absent when blank, NaN (refused by validation) when not a number. */
  number(name: string): number | undefined {
    const v = this.text(name);
    return v === undefined ? undefined : Number(v);
  }

  /** A checkbox: checked when sent at all. */
  flag(name: string): boolean {
    return this.pairs.some(([k]) => k === name);
  }

  /** Every value of a repeated field (checkbox group). */
  all(name: string): string[] {
    return this.pairs.filter(([k]) => k === name).map(([, v]) => v);
  }

  /** A textarea of one item per line (or comma-separated). */
  lines(name: string): string[] {
    return (this.raw(name) ?? '').split(/[\n,]/).map((l) => l.trim()).filter(Boolean);
  }
}
