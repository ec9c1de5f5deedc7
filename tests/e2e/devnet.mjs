#!/usr/bin/env node
// Tools for a development network, used by scripts/run-dev.sh and the end-to-end tests:
//
//   node devnet.mjs replay [--port N] [--data FILE]
//       The market-data replay server: the real BTC/USD hourly bars of the training data on
//       loopback, in a Binance-style klines format (/api/v3/klines) and a Coinbase-style candles
//       format (/products/BTC-USD/candles). The chain asks for one bar per feed round, so a round
//       of blocks replays an hour of market.
//   node devnet.mjs seed [--rpc URL] [--bars N] [--data FILE]
//       Seeds the empty BTC/USD feed (feed 0) with the N bars before its next bar time through
//       sudo(inference.seedBars): the models need 168-310 bars of history before their first
//       task. Does nothing if the feed already has history.
//
// Settled tasks are followed with the node's own command: `noderr-node results --follow`.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { submit } from './lib.mjs';

const cacheDir = process.env.NODERR_CACHE || path.join(os.homedir(), '.cache', 'noderr');
const defaultData = path.join(cacheDir, 'data', 'btc_1h.csv');

/** Bars of the prepared CSV (time,open,high,low,close,volume; ISO times), oldest first, as
 * `{ time: unix seconds, open, …: decimal strings }`. */
export function readBars(file = defaultData) {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);
  return lines.map((line) => {
    const [time, open, high, low, close, volume] = line.split(',');
    return { time: Date.parse(time) / 1000, open, high, low, close, volume };
  });
}

/** A decimal string as fixed point 10^6 (exact, like the chain's workers read it). */
export function fixed(decimal) {
  const [int, frac = ''] = decimal.split('.');
  const digits = (frac + '000000').slice(0, 6);
  const round = frac.length > 6 && Number(frac[6]) >= 5 ? 1n : 0n;
  const sign = int.startsWith('-') ? -1n : 1n;
  return sign * (BigInt(int.replace('-', '')) * 1_000_000n + BigInt(digits) + round);
}

/**
 * Starts the replay server on `port` (0: any free port); resolves with the server. `fault`
 * makes it misbehave for tests: 'garbage' answers HTML, 'late' answers the following hour's bar.
 */
export function replayServer({ port = 0, bars = readBars(), fault = null } = {}) {
  const from = (time) => {
    // The first bar at or after `time`.
    let lo = 0;
    let hi = bars.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bars[mid].time < time) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://replay');
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (fault === 'garbage') return send(200, '<html>upstream error</html>');
    const shift = fault === 'late' ? 1 : 0;
    if (url.pathname === '/api/v3/klines') {
      const start = Number(url.searchParams.get('startTime')) / 1000;
      const limit = Math.min(Number(url.searchParams.get('limit') || 500), 1000);
      if (!Number.isFinite(start) || url.searchParams.get('interval') !== '1h') {
        return send(400, { code: -1100, msg: 'unsupported parameters' });
      }
      const i = from(start) + shift;
      return send(200, bars.slice(i, i + limit).map((b) => [
        b.time * 1000, b.open, b.high, b.low, b.close, b.volume, b.time * 1000 + 3_599_999,
        '0', 0, '0', '0', '0',
      ]));
    }
    const candles = /^\/products\/([A-Z]+-[A-Z]+)\/candles$/.exec(url.pathname);
    if (candles) {
      const start = Number(url.searchParams.get('start'));
      const end = Number(url.searchParams.get('end'));
      if (!Number.isFinite(start) || !Number.isFinite(end) || url.searchParams.get('granularity') !== '3600') {
        return send(400, { message: 'unsupported parameters' });
      }
      // Coinbase answers newest first, with numbers rather than strings.
      const rows = [];
      for (let i = from(start); i < bars.length && bars[i].time <= end; i++) {
        const b = bars[i + shift];
        if (b) rows.push([b.time, Number(b.low), Number(b.high), Number(b.open), Number(b.close), Number(b.volume)]);
      }
      return send(200, rows.reverse());
    }
    send(404, { message: `no route ${url.pathname}` });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function connectRpc(url) {
  const provider = new WsProvider(url, 1000, {}, 60_000);
  return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
}

/** Bars seeded by default: the longest default window (the price model's 60 rows plus the
 * feature pipeline's 250-bar warm-up) with room to spare. */
export const SEED_BARS = 350;

/** Seeds feed 0 with the `count` bars before its next bar time, if it has no history yet.
 * Resolves with the number of bars seeded (0 when the feed already had history). */
export async function seedFeed(api, { count = SEED_BARS, bars = readBars(), signer } = {}) {
  if ((await api.query.inference.barCount(0)).toNumber() > 0) return 0;
  const feed = (await api.query.inference.feeds(0)).unwrap();
  const start = feed.nextBarTime.toNumber();
  const first = bars.findIndex((b) => b.time === start);
  if (first < 0) throw new Error(`the replay data has no bar at ${new Date(start * 1000).toISOString()}`);
  const chosen = bars.slice(first, first + count).map((b) => ({
    time: b.time, open: fixed(b.open), high: fixed(b.high), low: fixed(b.low),
    close: fixed(b.close), volume: fixed(b.volume),
  }));
  await submit(api, api.tx.sudo.sudo(api.tx.inference.seedBars(0, chosen)), signer);
  return chosen.length;
}

function arg(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const rpc = arg(args, '--rpc', 'ws://127.0.0.1:9944');
  const data = arg(args, '--data', defaultData);
  if (command === 'replay') {
    const server = await replayServer({ port: Number(arg(args, '--port', '9960')), bars: readBars(data) });
    const { port } = server.address();
    console.log(`market replay on http://127.0.0.1:${port}: binance=http://127.0.0.1:${port} coinbase=http://127.0.0.1:${port}`);
  } else if (command === 'seed') {
    await cryptoWaitReady();
    const api = await connectRpc(rpc);
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const n = await seedFeed(api, { count: Number(arg(args, '--bars', String(SEED_BARS))), bars: readBars(data), signer: alice });
    console.log(n ? `seeded the BTC/USD feed with ${n} bars` : 'the BTC/USD feed already has history');
    await api.disconnect();
  } else {
    console.error('usage: devnet.mjs replay [--port N] | seed [--rpc URL] [--bars N]');
    process.exit(2);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
}
