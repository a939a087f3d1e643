import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { loadSpec, resetSandbox, sandboxView, writeSandboxFile, type SandboxView } from '../sandbox/seed.ts';
import { validate } from './validation.ts';

const resetSchema = z.object({ regenerate: z.boolean().default(false) });

/** Back to the seeded sandbox (the same one, or with `regenerate` a new one with new keys). */
export async function resetToSandbox(ctx: GatewayContext, input: unknown): Promise<SandboxView> {
  const body = validate(resetSchema, input);
  const spec = await resetSandbox(ctx, body.regenerate ? undefined : await loadSpec(ctx));
  const view = sandboxView(ctx, spec);
  writeSandboxFile(ctx, view);
  return view;
}
