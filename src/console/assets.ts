import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The console's stylesheet, icon and its one small script, served as files (the pages' CSP
 * allows no inline script). The script only adds comfort: copy buttons, reading a key
 * file into its textarea, a confirmation before reset; every page works without it.
 */
const CSS = `
main{max-width:1200px}
.console-nav{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;margin-bottom:16px}
.console-nav a{color:#1677ff;text-decoration:none;padding:2px 0}
.console-nav a[aria-current=page]{color:#1f2329;font-weight:600;border-bottom:2px solid #1677ff}
.console-nav form{margin-left:auto}
.console-nav button{margin:0;padding:4px 12px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
.scroll table{min-width:680px}
.scroll th,.scroll td{word-break:normal;white-space:nowrap}
.scroll td.wrap{white-space:normal;word-break:break-all;min-width:160px}
.scroll table.compact{min-width:0}
.notice{background:#f6ffed;border:1px solid #b7eb8f;border-radius:6px;padding:8px 12px;margin-bottom:16px}
.error-box{background:#fff2f0;border:1px solid #ffccc7;border-radius:6px;padding:8px 12px;margin-bottom:16px;color:#a8071a}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:0 16px}
label.check{display:flex;gap:8px;align-items:center;margin:6px 0;font-weight:normal}
label.check input{width:auto;margin:0}
fieldset{border:1px solid #d0d3d9;border-radius:6px;margin:12px 0 0;padding:4px 12px 8px}
textarea.key{font:12px/1.4 ui-monospace,Menlo,monospace;height:9em;resize:vertical}
.key-actions{display:flex;gap:12px;align-items:center;margin:4px 0 12px;flex-wrap:wrap}
.key-actions button{margin:0;padding:2px 10px}
button.small{padding:3px 10px;margin:0}
button.danger{background:#d4380d}
form.inline{display:inline}
.row-form{display:flex;gap:4px 12px;align-items:center}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:#646a73}dl.kv dd{margin:0;word-break:break-all}
.fail{color:#d4380d}.ok{color:#389e0d}.muted{color:#8f959e}
h2{font-size:18px;margin:0 0 12px}h3{font-size:16px;margin:16px 0 8px}
@media (max-width:600px){dl.kv{grid-template-columns:1fr}dl.kv dt{margin-top:6px}.console-nav form{margin-left:0}}
`;

const JS = `
document.querySelectorAll('[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var done = function () { button.textContent = 'Copied'; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
    } else {
      source.select();
      if (document.execCommand('copy')) done();
    }
  });
});
document.querySelectorAll('input[type=file][data-into]').forEach(function (input) {
  input.hidden = false;
  input.addEventListener('change', function () {
    var target = document.getElementById(input.getAttribute('data-into'));
    var file = input.files && input.files[0];
    if (target && file) file.text().then(function (text) { target.value = text; });
  });
});
document.querySelectorAll('form[data-confirm]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
  });
});
`;

/** The console's icon, so browsers do not ask for a /favicon.ico nobody serves. */
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1677ff"/><path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>';

export const ASSET_PATHS = { css: '/console/assets/console.css', js: '/console/assets/console.js', icon: '/console/assets/icon.svg' };

export function registerConsoleAssets(app: FastifyInstance): void {
  const serve = (type: string, body: string) => async (_req: unknown, reply: FastifyReply) =>
    reply.header('content-type', type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
  app.get(ASSET_PATHS.css, { config: { public: true } }, serve('text/css; charset=utf-8', CSS));
  app.get(ASSET_PATHS.js, { config: { public: true } }, serve('text/javascript; charset=utf-8', JS));
  app.get(ASSET_PATHS.icon, { config: { public: true } }, serve('image/svg+xml', ICON));
}
