// Load script for a running network (the zombienet testnet: scripts/testnet.sh
// zombienet/load.toml): paid sentiment tasks at rising rates, and what the network settles.
//   node tests/e2e/load.mjs [--rpc ws://127.0.0.1:9944] [--rates 1,2,4,8] [--blocks 20]
// For each rate (tasks submitted per block) it submits that many `inference.createTask` calls at
// every new block for `--blocks` blocks, from eight load accounts Alice funds, then waits for
// every task of the step to finish. It prints, per step: tasks submitted and created, settled
// and failed (with reasons), settled tasks per minute over the step (from the chain's block
// timestamps), blocks from creation to settlement (median and 95th percentile), the mean share
// of the block's normal weight used, and the machine's CPU use during the step (/proc/stat).
// A step that settles fewer tasks per minute than it submits has passed saturation.
import { readFileSync } from 'node:fs';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const UNIT = 10n ** 12n;
const TEXTS = [
  'Quarterly results beat every estimate and the shares soared',
  'The company warned of falling sales and cut its outlook',
  'The board meets on Tuesday to discuss the agenda',
  'Regulators fined the bank for misleading customers',
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function cpuTimes() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = f.map(Number);
  return { busy: n[0] + n[1] + n[2] + n[5] + n[6] + n[7], total: n.slice(0, 8).reduce((a, b) => a + b, 0) };
}

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function main() {
  const rpc = arg('--rpc', 'ws://127.0.0.1:9944');
  const rates = arg('--rates', '1,2,4,8').split(',').map(Number);
  const blocks = Number(arg('--blocks', '20'));
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(rpc), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const loaders = Array.from({ length: 8 }, (_, i) => keyring.addFromUri(`//Load${i}`));
  const sentiment = (await api.call.modelRegistryApi.activeModels('Guardian'))
    .find((m) => m.name.toUtf8() === 'sentiment').spec.artifactHash.toHex();
  const maxNormal = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();

  // Fund the load accounts (one transfer each, nonces from Alice's next index).
  let aliceNonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  for (const l of loaders) {
    await api.tx.balances.transferKeepAlive(l.address, 100_000n * UNIT).signAndSend(alice, { nonce: aliceNonce });
    aliceNonce += 1;
  }
  const funded = async () => (await Promise.all(loaders.map((l) => api.query.system.account(l.address))))
    .every((a) => a.data.free.toBigInt() >= 50_000n * UNIT);
  while (!(await funded())) await new Promise((r) => setTimeout(r, 1000));
  const nonces = await Promise.all(loaders.map(async (l) => (await api.rpc.system.accountNextIndex(l.address)).toNumber()));
  const loaderSet = new Set(loaders.map((l) => l.address));

  console.log(`load on ${rpc}: sentiment tasks (fee 0.1 NODERR), ${blocks} blocks per step`);
  console.log('rate/block | submitted | created | settled | failed | settled/min | settle blocks p50/p95 | block weight | CPU');
  for (const rate of rates) {
    const mine = new Map(); // task id -> { created block, finished block, outcome }
    let submitted = 0;
    let weightSum = 0;
    let weightBlocks = 0;
    const cpu0 = cpuTimes();
    let firstTime = null;
    let lastTime = null;
    let settledInStep = 0;
    let sent = 0;
    let last = 0;
    await new Promise((resolve) => {
      let unsub;
      api.rpc.chain.subscribeNewHeads(async (header) => {
        const n = header.number.toNumber();
        if (n <= last) return;
        last = n;
        if (sent < blocks) {
          sent += 1;
          for (let i = 0; i < rate; i += 1) {
            const who = submitted % loaders.length;
            const tx = api.tx.inference.createTask(sentiment, { Text: TEXTS[submitted % TEXTS.length] }, UNIT / 10n);
            tx.signAndSend(loaders[who], { nonce: nonces[who] }).catch(() => {});
            nonces[who] += 1;
            submitted += 1;
          }
        } else {
          unsub?.();
          resolve();
        }
      }).then((u) => { unsub = u; });
    });
    // Follow the chain from the step's first block until every task of the step finished.
    const start = last - blocks;
    let at = start;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      for (; at <= head; at += 1) {
        const hash = await api.rpc.chain.getBlockHash(at);
        const h = await api.at(hash);
        const [events, weight, now] = await Promise.all([h.query.system.events(), h.query.system.blockWeight(), h.query.timestamp.now()]);
        if (at <= last) {
          weightSum += Number(weight.normal.refTime.toBigInt() * 10_000n / maxNormal) / 10_000;
          weightBlocks += 1;
        }
        for (const { event } of events) {
          if (event.section !== 'inference') continue;
          const d = event.data;
          if (event.method === 'TaskCreated' && d.requester.isSome && loaderSet.has(d.requester.unwrap().toString())) {
            mine.set(d.task.toNumber(), { created: at });
          } else if ((event.method === 'TaskSettled' || event.method === 'TaskFailed') && mine.has(d.task.toNumber())) {
            const t = mine.get(d.task.toNumber());
            t.finished = at;
            t.outcome = event.method === 'TaskSettled' ? 'settled' : d.reason.toString();
            if (t.outcome === 'settled') {
              settledInStep += 1;
              firstTime ??= now.toNumber();
              lastTime = now.toNumber();
            }
          }
        }
      }
      const open = [...mine.values()].filter((t) => !t.finished).length;
      if ((mine.size >= submitted && open === 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const cpu1 = cpuTimes();
    const done = [...mine.values()].filter((t) => t.finished);
    const settled = done.filter((t) => t.outcome === 'settled');
    const failed = {};
    for (const t of done.filter((x) => x.outcome !== 'settled')) failed[t.outcome] = (failed[t.outcome] ?? 0) + 1;
    const lat = settled.map((t) => t.finished - t.created);
    const minutes = firstTime && lastTime > firstTime ? (lastTime - firstTime) / 60_000 : NaN;
    const perMin = settledInStep > 1 ? (settledInStep - 1) / minutes : 0;
    const failedText = Object.entries(failed).map(([k, v]) => `${v} ${k}`).join(', ') || '0';
    console.log([
      rate, submitted, mine.size, settled.length, failedText, perMin.toFixed(1),
      `${quantile(lat, 0.5)}/${quantile(lat, 0.95)}`,
      `${(100 * weightSum / Math.max(1, weightBlocks)).toFixed(1)} %`,
      `${(100 * (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)).toFixed(0)} %`,
    ].join(' | '));
  }
  await api.disconnect();
}

main().catch((e) => { console.error(e); process.exit(1); });
