import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * Issue 8, slow clients: with GATEWAYDO_REQUEST_TIMEOUT=1s, a client that opens a
 * connection and says nothing, stops halfway through its headers, or trickles its body a
 * byte at a time is cut off near the deadline — not after Node's defaults (minutes) — and
 * the server keeps answering everyone else meanwhile.
 */
const TIMEOUT_MS = 1000;
/** Deadline plus Node's check interval (a quarter of it) plus slack for a loaded CI machine. */
const CUT_OFF_WITHIN_MS = 4000;

let gw: TestGateway;
const figures: string[] = [];

before(async () => {
  gw = await startTestGateway({ requestTimeout: `${TIMEOUT_MS}ms` });
});
after(async () => {
  console.log(`slow clients (timeout ${TIMEOUT_MS} ms): ${figures.join('; ')}`);
  await gw.close();
});

interface Outcome {
  closedAfterMs: number;
  answer: string;
}

/** Opens a socket, lets `behave` write (or not), and resolves when the server closes it. */
function slowClient(behave: (socket: Socket) => Promise<void> | void): Promise<Outcome> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a slow connection open for 15 s'));
    }, 15_000);
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ closedAfterMs: Date.now() - started, answer });
    });
    socket.on('connect', () => void behave(socket));
  });
}

async function healthy(): Promise<void> {
  const started = Date.now();
  const res = await fetch(`${gw.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.ok(Date.now() - started < TIMEOUT_MS, 'healthz answers while slow clients hang on, before they are cut off');
}

test('a connection that sends nothing is closed after the timeout', async () => {
  const outcome = await slowClient(() => {});
  figures.push(`silent connection closed after ${outcome.closedAfterMs} ms`);
  assert.ok(outcome.closedAfterMs >= TIMEOUT_MS * 0.9 && outcome.closedAfterMs < CUT_OFF_WITHIN_MS, `closed after ${outcome.closedAfterMs} ms`);
});

test('headers that stop halfway: cut off, the rest of the server unaffected', async () => {
  const pending = slowClient((socket) => {
    socket.write(`POST /gateway.do?method=alipay.system.oauth.token HTTP/1.1\r\nhost: ${new URL(gw.url).host}\r\ncontent-type: application/x-www-form-`);
  });
  await healthy();
  const outcome = await pending;
  figures.push(`half-sent headers cut off after ${outcome.closedAfterMs} ms`);
  assert.ok(outcome.closedAfterMs < CUT_OFF_WITHIN_MS, `closed after ${outcome.closedAfterMs} ms`);
  assert.ok(outcome.answer === '' || /^HTTP\/1\.1 408/.test(outcome.answer), `a timeout, if anything: ${outcome.answer.slice(0, 80)}`);
});

test('a body trickled one byte at a time is cut off at the request deadline', async () => {
  let stop = false;
  const pending = slowClient(async (socket) => {
    socket.write(`POST /gateway.do?method=alipay.system.oauth.token HTTP/1.1\r\nhost: ${new URL(gw.url).host}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\n`);
    // Each byte arrives well inside the idle timeout; only the whole-request deadline stops it.
    while (!stop && !socket.destroyed) {
      socket.write('a');
      await sleep(150);
    }
  });
  await healthy();
  const outcome = await pending;
  stop = true;
  figures.push(`trickled body cut off after ${outcome.closedAfterMs} ms (${outcome.answer.slice(0, 24).trim()})`);
  assert.ok(outcome.closedAfterMs < CUT_OFF_WITHIN_MS, `closed after ${outcome.closedAfterMs} ms`);
  assert.match(outcome.answer, /^HTTP\/1\.1 408/, 'Node answers 408 Request Timeout before closing');
});

test('afterwards the server is up', async () => {
  await healthy();
});
