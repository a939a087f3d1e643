#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step to explain or forget.
//
// CommonJS (bin/package.json), so this line runs before Node's ESM loader, whose async
// file reads start libuv's thread pool with whatever size is set by then. RSA signing runs
// on that pool while the main thread, itself busy with every request, needs a core too:
// one pool thread per other core answers fastest. Measured on 2 cores: 1 thread signs
// ~20% more answers per second than 2, and 2 ~9% more than the default 4; a larger
// machine gets more. The price: a password check (scrypt, ~35 ms) holds a pool thread,
// so with a single one, signing waits behind a login.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, require('node:os').availableParallelism() - 1));

import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return import('../src/cli.ts');
  })
  .catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
