import type { SandboxView } from './sandbox/seed.ts';

/** The short terminal summary printed at start: where to point a client, and with what. */
export function sandboxSummary(view: SandboxView, file: string | undefined, created: boolean): string {
  const lines = [
    '',
    `gatewaydo ${created ? 'created a new sandbox' : 'is serving its sandbox'}`,
    `  gateway      ${view.gateway}`,
    `  console      ${view.console}`,
    `  admin token  ${view.admin_token}`,
  ];
  if (view.app) lines.push(`  app_id       ${view.app.app_id} (${view.app.sign_type})`);
  if (view.partner) lines.push(`  partner      ${view.partner.partner} (MD5 key ${view.partner.md5_key}; RSA and DSA keys in the file below)`);
  lines.push('  members (login / password):');
  for (const m of view.members) lines.push(`    ${m.login_id.padEnd(32)} ${m.password.padEnd(12)} ${m.role}`);
  if (view.koubei_operators.length) {
    lines.push(`  koubei operators: ${view.koubei_operators.map((o) => `${o.login_id} (${o.operator_type})`).join(', ')}; password ${view.koubei_operators[0].password}`);
  }
  lines.push(file ? `  keys and full credentials: ${file}` : '  keys and full credentials: GET /admin/api/sandbox');
  lines.push('');
  return lines.join('\n');
}
