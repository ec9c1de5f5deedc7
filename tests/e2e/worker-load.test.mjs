// Workers with tasks in 20 consecutive blocks lose no submission: a user creates a sentiment
// task in each of 20 blocks (NODERR_LOAD_TASKS to change); every task settles with every
// assigned operator agreeing, no worker submission fails in a block (no nonce to collide on, no
// duplicate). The test prints the latency from creation to settlement in blocks and seconds,
// the node's CPU time per block and RSS idle and under this load, and the worker's own run
// time, ML call latency and resubmissions from its metrics.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  connect, cpuSeconds, removeDir, rssMiB, scrapeMetrics, servedModels, startNode, tempDir, waitFor,
} from './lib.mjs';

const UNIT = 10n ** 12n;
const TASKS = Number(process.env.NODERR_LOAD_TASKS ?? 20);
let node;
let api;
const basePath = tempDir('noderr-e2e-worker-load-');

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

test(`workers with tasks in ${TASKS} consecutive blocks lose no submission`, async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  const requester = keyring.addFromUri('//Two');
  node = await startNode({ basePath });
  api = await connect(node);
  const sentiment = (await api.call.modelRegistryApi.activeModels('Guardian'))
    .find((m) => m.name.toUtf8() === 'sentiment').spec.artifactHash.toHex();
  await waitFor(async () => (await servedModels(node)).includes(sentiment), { timeoutMs: 120_000, what: 'sentiment served' });
  for (const who of ['//Alice', '//Bob']) {
    await waitFor(async () => {
      const s = await api.call.inferenceApi.operator(keyring.addFromUri(who).address);
      return s.live.isTrue && s.heartbeat.unwrap()[1].some((k) => k.toHex() === sentiment);
    }, { timeoutMs: 90_000, what: `${who}'s worker declaring sentiment` });
  }

  // Idle: the workers heartbeat, no task is open.
  const pid = node.child.pid;
  const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
  const idleFrom = [await head(), cpuSeconds(pid)];
  await waitFor(async () => (await head()) >= idleFrom[0] + 5, { timeoutMs: 60_000, what: 'five idle blocks' });
  const idleTo = [await head(), cpuSeconds(pid)];
  const idle = { rss: rssMiB(pid), cpu: (idleTo[1] - idleFrom[1]) / (idleTo[0] - idleFrom[0]) };
  const metricsBefore = await scrapeMetrics(node);
  let busyRss = 0;

  // Every inference event and every failed extrinsic, by block.
  const created = new Map(); // task -> block
  const settled = new Map(); // task -> [block, data]
  const committed = new Map();
  const revealed = new Map();
  const submittedIn = new Set(); // blocks holding a worker's commit or reveal
  const failures = [];
  const times = new Map(); // block -> timestamp ms
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const n = header.number.toNumber();
    busyRss = Math.max(busyRss, rssMiB(pid));
    times.set(n, (await (await api.at(header.hash)).query.timestamp.now()).toNumber());
    const events = await (await api.at(header.hash)).query.system.events();
    for (const { event, phase } of events) {
      if (api.events.system.ExtrinsicFailed.is(event)) failures.push([n, phase.toString(), event.data.toString()]);
      if (event.section !== 'inference') continue;
      const task = event.data.task?.toString();
      const bump = (map) => map.set(task, (map.get(task) ?? 0) + 1);
      if (event.method === 'TaskCreated') created.set(task, n);
      if (event.method === 'Committed') { bump(committed); submittedIn.add(n); }
      if (event.method === 'Revealed') { bump(revealed); submittedIn.add(n); }
      if (event.method === 'TaskSettled' || event.method === 'TaskFailed') settled.set(task, [n, event]);
    }
  });

  // One task per block: each creation waits for the previous one's block.
  const busyFrom = [await head(), cpuSeconds(pid)];
  let nonce = (await api.rpc.system.accountNextIndex(requester.address)).toNumber();
  const mine = [];
  for (let i = 0; i < TASKS; i += 1) {
    const before = created.size;
    await api.tx.inference.createTask(sentiment, { Text: `headline number ${i}: markets move` }, UNIT)
      .signAndSend(requester, { nonce });
    nonce += 1;
    await waitFor(() => created.size > before, { timeoutMs: 30_000, intervalMs: 200, what: `task ${i} created` });
    mine.push([...created.keys()].at(-1));
  }
  const blocks = mine.map((t) => created.get(t));
  assert.equal(new Set(blocks).size, TASKS, `one task per block: ${blocks}`);

  await waitFor(() => mine.every((t) => settled.has(t)), { timeoutMs: 180_000 + TASKS * 6_000, intervalMs: 1_000, what: 'every task settled' });
  const busyTo = [await head(), cpuSeconds(pid)];
  unsubscribe();
  const metricsAfter = await scrapeMetrics(node);
  const latencies = [];
  const seconds = [];
  for (const t of mine) {
    const [at, event] = settled.get(t);
    assert.ok(api.events.inference.TaskSettled.is(event), `task ${t}: ${event.method} ${event.data.toString()}`);
    const { assigned, revealed: rev, agreed } = event.data;
    assert.equal(agreed.toNumber(), assigned.toNumber(), `task ${t}: every operator agreed`);
    assert.equal(rev.toNumber(), assigned.toNumber(), `task ${t}: nobody missed`);
    assert.equal(committed.get(t), assigned.toNumber(), `task ${t}: one commitment each`);
    assert.equal(revealed.get(t), assigned.toNumber(), `task ${t}: one reveal each`);
    latencies.push(at - created.get(t));
    seconds.push((times.get(at) - times.get(created.get(t))) / 1000);
  }
  assert.deepEqual(failures, [], 'no extrinsic failed');
  // Every first submission landed: none had to be sent again (the node starts its workers on a
  // block only once the transaction pool has taken that block in).
  for (const kind of ['commit', 'reveal']) {
    const again = (metricsAfter.get(`noderr_worker_resubmissions_total{kind="${kind}"}`) ?? 0)
      - (metricsBefore.get(`noderr_worker_resubmissions_total{kind="${kind}"}`) ?? 0);
    assert.equal(again, 0, `${kind}s resubmitted`);
  }
  // The workers submitted in at least 20 consecutive blocks.
  let run = 0;
  let longest = 0;
  const sorted = [...submittedIn].sort((a, b) => a - b);
  sorted.forEach((b, i) => { run = i > 0 && b === sorted[i - 1] + 1 ? run + 1 : 1; longest = Math.max(longest, run); });
  assert.ok(longest >= TASKS, `worker submissions in ${longest} consecutive blocks: ${sorted}`);
  latencies.sort((a, b) => a - b);
  seconds.sort((a, b) => a - b);
  const hist = latencies.reduce((h, l) => ({ ...h, [l]: (h[l] ?? 0) + 1 }), {});
  console.log(`${TASKS} sentiment tasks, blocks from creation to settlement: median ${latencies[TASKS >> 1]}, worst ${latencies.at(-1)}`
    + ` (assignment delay 2 + prompt commit, reveal, settle); by count ${JSON.stringify(hist)};`
    + ` seconds: median ${seconds[TASKS >> 1]}, worst ${seconds.at(-1)}`);
  const delta = (name) => (metricsAfter.get(name) ?? 0) - (metricsBefore.get(name) ?? 0);
  const runs = delta('noderr_worker_runs_total');
  const ml = delta('noderr_worker_ml_call_seconds_count');
  const busyCpu = (busyTo[1] - busyFrom[1]) / (busyTo[0] - busyFrom[0]);
  console.log(`node CPU per block: idle ${(idle.cpu * 1000).toFixed(0)} ms, under load ${(busyCpu * 1000).toFixed(0)} ms;`
    + ` RSS idle ${idle.rss.toFixed(0)} MiB, under load up to ${busyRss.toFixed(0)} MiB;`
    + ` worker runs under load: ${runs}, mean ${(delta('noderr_worker_run_seconds_sum') / runs * 1000).toFixed(1)} ms;`
    + ` ML calls ${ml}, mean ${(delta('noderr_worker_ml_call_seconds_sum') / ml * 1000).toFixed(1)} ms;`
    + ` resubmitted: commits ${delta('noderr_worker_resubmissions_total{kind="commit"}')}, reveals ${delta('noderr_worker_resubmissions_total{kind="reveal"}')}`);
});
