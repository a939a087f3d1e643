#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step to explain or forget.
//
// CommonJS (bin/package.json), so this line runs before Node's ESM loader, whose async
// file reads start libuv's thread pool with whatever size is set by then. RSA signing runs
// on that pool, and one thread per core signs fastest: the default of 4 oversubscribes a
// 2-core machine (measured: ~9% fewer signed answers per second) and idles larger ones.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, require('node:os').availableParallelism()));

import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return import('../src/cli.ts');
  })
  .catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
