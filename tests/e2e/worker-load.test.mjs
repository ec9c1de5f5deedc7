// Workers with tasks in 20 consecutive blocks lose no submission: a user creates a sentiment
// task in each of 20 blocks; every task settles with every assigned operator agreeing, no
// worker submission fails in a block (no nonce to collide on, no duplicate), and the test
// prints the latency from creation to settlement.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, removeDir, servedModels, startNode, tempDir, waitFor } from './lib.mjs';

const UNIT = 10n ** 12n;
const TASKS = 20;
let node;
let api;
const basePath = tempDir('noderr-e2e-worker-load-');

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

test('workers with tasks in 20 consecutive blocks lose no submission', async () => {
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

  // Every inference event and every failed extrinsic, by block.
  const created = new Map(); // task -> block
  const settled = new Map(); // task -> [block, data]
  const committed = new Map();
  const revealed = new Map();
  const submittedIn = new Set(); // blocks holding a worker's commit or reveal
  const failures = [];
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const n = header.number.toNumber();
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

  await waitFor(() => mine.every((t) => settled.has(t)), { timeoutMs: 180_000, intervalMs: 1_000, what: 'every task settled' });
  unsubscribe();
  const latencies = [];
  for (const t of mine) {
    const [at, event] = settled.get(t);
    assert.ok(api.events.inference.TaskSettled.is(event), `task ${t}: ${event.method} ${event.data.toString()}`);
    const { assigned, revealed: rev, agreed } = event.data;
    assert.equal(agreed.toNumber(), assigned.toNumber(), `task ${t}: every operator agreed`);
    assert.equal(rev.toNumber(), assigned.toNumber(), `task ${t}: nobody missed`);
    assert.equal(committed.get(t), assigned.toNumber(), `task ${t}: one commitment each`);
    assert.equal(revealed.get(t), assigned.toNumber(), `task ${t}: one reveal each`);
    latencies.push(at - created.get(t));
  }
  assert.deepEqual(failures, [], 'no extrinsic failed');
  // The workers submitted in at least 20 consecutive blocks.
  let run = 0;
  let longest = 0;
  const sorted = [...submittedIn].sort((a, b) => a - b);
  sorted.forEach((b, i) => { run = i > 0 && b === sorted[i - 1] + 1 ? run + 1 : 1; longest = Math.max(longest, run); });
  assert.ok(longest >= TASKS, `worker submissions in ${longest} consecutive blocks: ${sorted}`);
  latencies.sort((a, b) => a - b);
  console.log(`${TASKS} sentiment tasks, blocks from creation to settlement: median ${latencies[TASKS >> 1]}, worst ${latencies.at(-1)} (assignment delay 2 + prompt commit, reveal, settle)`);
});
