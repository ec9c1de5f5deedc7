// The dev chain's main job, end to end, with nothing played by the test: the node's off-chain
// workers (Dave, Eve, Ferdie for Alice, Bob, Charlie) declare what their ML service serves,
// observe BTC/USD bars from market sources (one answering garbage, one answering the wrong hour,
// one the replay of real bars), and answer the scheduled price, regime and MSRR tasks and a
// user's sentiment task through the ML service, commit-revealed; the chain aggregates and pays.
// Driven and checked only through polkadot.js, JSON-RPC and the node's ML service.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  barWindow, connect, httpRpc, removeDir, rssMiB, runToExit, scrapeMetrics, servedModels, startNode, submit, tempDir, waitFor,
} from './lib.mjs';
import { SEED_BARS, readBars, replayServer, seedFeed } from './devnet.mjs';

const UNIT = 10n ** 12n;
let node;
let api;
let basePath;
let keyring;
let servers = [];
let models = {};
const created = new Map(); // task id -> its status when first seen open
const settled = new Map(); // task id -> TaskSettled data
let unsubscribe;

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  const bars = readBars();
  servers = await Promise.all([
    replayServer({ bars, fault: 'garbage' }),
    replayServer({ bars, fault: 'late' }),
    replayServer({ bars }),
  ]);
  const [garbage, late, good] = servers.map((s) => `http://127.0.0.1:${s.address().port}`);
  basePath = tempDir('noderr-e2e-worker-');
  node = await startNode({
    basePath,
    extraArgs: [`--market-source=binance=${garbage}`, `--market-source=coinbase=${late}`,
      `--market-source=binance=${good}`],
  });
  api = await connect(node);
  for (const m of await api.call.modelRegistryApi.activeModels('Guardian')) {
    models[m.name.toUtf8()] = m.spec.artifactHash.toHex();
  }
  unsubscribe = await api.query.system.events(async (records) => {
    for (const { event } of records) {
      if (event.section !== 'inference') continue;
      const task = event.data.task?.toString();
      if (event.method === 'TaskCreated') {
        const status = await api.call.inferenceApi.task(task);
        if (status.isSome && status.unwrap().isOpen) created.set(task, status.unwrap().asOpen);
      } else if (event.method === 'TaskSettled') settled.set(task, event.data);
    }
  });
  const n = await seedFeed(api, { bars, signer: keyring.addFromUri('//Alice') });
  assert.equal(n, SEED_BARS);
  await waitFor(async () => (await servedModels(node)).length === 4, { timeoutMs: 120_000, what: 'the default models served' });
});

after(async () => {
  unsubscribe?.();
  await api?.disconnect();
  await node?.stop();
  for (const s of servers) s.close();
  removeDir(basePath);
});

const barCount = async () => (await api.query.inference.barCount(0)).toNumber();

test('observers aggregate the real bar from the good source and log the bad ones', async () => {
  await waitFor(async () => (await barCount()) > SEED_BARS, { timeoutMs: 180_000, intervalMs: 1_000, what: 'an observed bar' });
  const bar = (await api.query.inference.bars(0, SEED_BARS)).unwrap();
  const real = readBars()[SEED_BARS];
  assert.equal(bar.time.toNumber(), real.time);
  const fixed6 = (x) => BigInt(Math.round(Number(x) * 1e6));
  assert.equal(bar.close.toBigInt(), fixed6(real.close));
  assert.equal(bar.open.toBigInt(), fixed6(real.open));
  assert.match(node.log(), /market source .*: garbage \(not JSON\); skipped/);
  assert.match(node.log(), /market source .*: no bar for time \d+ \(got \[[\d, ]+\]\); skipped/);
});

test('the scheduled models settle on the new history with what every node computes itself', async () => {
  const byModel = (name) => [...created.entries()].find(([id, s]) =>
    s.model.isSome && s.model.unwrap().toHex() === models[name] && settled.has(id));
  await waitFor(async () => ['price-transformer', 'gaf-regime', 'msrr'].every(byModel),
    { timeoutMs: 240_000, intervalMs: 2_000, what: 'price, regime and MSRR results settled' });
  const cases = [
    ['price-transformer', 'ml_predict', 310, (r) => [r.return, r.volatility, r.confidence]],
    ['gaf-regime', 'ml_classifyRegime', 64, (r) => [r.class]],
    ['msrr', 'ml_msrr', 168, (r) => [r.p_calm, r.p_turbulent, r.turbulence_next, r.expected_return_pct, r.semivariance_pct2, r.allocation]],
  ];
  for (const [name, method, len, fields] of cases) {
    const [id, open] = byModel(name);
    const end = open.input.asHistory.end.toNumber();
    const bars = await barWindow(api, end, len);
    const ml = await httpRpc(node.mlUrl, method, { model: models[name], bars });
    assert.ok(ml.result, `${method}: ${JSON.stringify(ml.error)}`);
    const answer = settled.get(id).answer.map((x) => x.toNumber());
    assert.deepEqual(answer, fields(ml.result), `${name} task ${id}: the aggregate is the node's own answer`);
    // The uniform method the worker calls answers the same values, in the registry's order.
    const run = await httpRpc(node.mlUrl, 'ml_run', { model: models[name], input: { bars } });
    assert.deepEqual(run.result?.values, answer, `ml_run for ${name}: ${JSON.stringify(run.error)}`);
    const agreed = settled.get(id).agreed.toNumber();
    assert.equal(agreed, settled.get(id).assigned.toNumber(), `${name}: every assigned operator agreed`);
  }
});

test("a user's sentiment task settles with the ML service's class and pays by tier", async () => {
  const two = keyring.addFromUri('//Two');
  await waitFor(async () => {
    const s = await api.call.inferenceApi.operator(keyring.addFromUri('//Bob').address);
    return s.live.isTrue && s.heartbeat.unwrap()[1].some((k) => k.toHex() === models.sentiment);
  }, { timeoutMs: 60_000, what: "Bob's worker declaring the sentiment model" });
  const text = 'The new exchange listing sent the token soaring to record highs';
  const { events } = await submit(api, api.tx.inference.createTask(models.sentiment, { Text: text }, UNIT), two);
  const task = events.find(({ event }) => api.events.inference.TaskCreated.is(event)).event.data.task.toString();
  await waitFor(async () => settled.has(task), { timeoutMs: 90_000, intervalMs: 1_000, what: `sentiment task ${task} settled` });
  const ml = await httpRpc(node.mlUrl, 'ml_sentiment', { model: models.sentiment, text });
  assert.deepEqual(settled.get(task).answer.map((x) => x.toNumber()), [ml.result.class]);
  const finished = (await api.call.inferenceApi.task(task)).unwrap().asFinished;
  const alice = keyring.addFromUri('//Alice').address;
  const bob = keyring.addFromUri('//Bob').address;
  const reward = (who) => finished.operators.find((o) => o.who.toString() === who).reward.toBigInt();
  assert.ok(finished.operators.every((o) => o.participation.isAgreed));
  // GUARDIAN 5x, ORACLE 2x: the rewards' ratio, up to a unit of rounding.
  const ratio = Number(reward(alice) * 1000n / reward(bob)) / 1000;
  assert.ok(Math.abs(ratio - 2.5) < 0.01, `reward ratio ${ratio}`);
  // Each operator's participation, through the runtime API.
  const status = await api.call.inferenceApi.operator(alice);
  assert.equal(status.worker.unwrap().toString(), keyring.addFromUri('//Dave').address);
  assert.ok(status.stats.agreed.toNumber() >= 1);
  assert.equal(status.stats.strikes.toNumber(), 0);
});

const scrape = () => scrapeMetrics(node);

test("the node's metrics, `results` and worker-key RPC show and serve the worker", async () => {
  const m = await scrape();
  console.log([...m].filter(([k]) => k.startsWith('noderr_worker') && !k.includes('_bucket')).map(([k, v]) => `${k} ${v}`).join('\n'));
  const settledHere = [...settled.values()];
  const assignedTotal = settledHere.reduce((a, d) => a + d.assigned.toNumber(), 0);
  // Every operator is local on --dev: each settled task's assignments were all this node's.
  assert.ok(m.get('noderr_worker_tasks_assigned_total') >= assignedTotal, `assigned ${m.get('noderr_worker_tasks_assigned_total')} < ${assignedTotal}`);
  assert.ok(m.get('noderr_worker_tasks_revealed_total') >= assignedTotal);
  assert.ok(m.get('noderr_worker_tasks_committed_total') >= assignedTotal);
  assert.ok(m.get('noderr_worker_heartbeats_total') >= 3, 'one heartbeat per operator at least');
  const [garbage, late, good] = servers.map((s) => `http://127.0.0.1:${s.address().port}`);
  assert.ok(m.get(`noderr_worker_market_source_failures_total{source="${garbage}"}`) >= 1);
  assert.ok(m.get(`noderr_worker_market_source_failures_total{source="${late}"}`) >= 1);
  assert.equal(m.get(`noderr_worker_market_source_failures_total{source="${good}"}`), undefined, 'the good source never failed');
  const mlCalls = m.get('noderr_worker_ml_call_seconds_count');
  assert.ok(mlCalls >= settledHere.length, 'one ML call per model answer at least');
  assert.equal(m.get('noderr_worker_ml_call_seconds_bucket{le="+Inf"}'), mlCalls);
  const runs = m.get('noderr_worker_runs_total');
  assert.equal(m.get('noderr_worker_run_seconds_count'), runs);
  console.log(`worker: ${runs} runs, mean ${(m.get('noderr_worker_run_seconds_sum') / runs * 1000).toFixed(1)} ms wall time per run; `
    + `${mlCalls} ML calls, mean ${(m.get('noderr_worker_ml_call_seconds_sum') / mlCalls * 1000).toFixed(1)} ms; node RSS ${rssMiB(node.child.pid).toFixed(0)} MiB`);

  // `noderr-node results` prints every settled task with the chain's answer.
  const out = await runToExit(['results', `--rpc-url=http://127.0.0.1:${node.rpcPort}`, '--from=1', '--json']);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const tasks = new Map(lines.filter((l) => l.kind === 'task').map((l) => [String(l.task), l]));
  for (const [id, d] of settled) {
    const printed = tasks.get(id);
    if (!printed) continue; // settled after the command read the finalized head
    assert.deepEqual(printed.answer, d.answer.map((x) => x.toNumber()), `task ${id}`);
    assert.equal(printed.agreed, d.agreed.toNumber());
    assert.ok(printed.settled > printed.created);
  }
  assert.ok(tasks.size >= settled.size - 2, `results printed ${tasks.size} of ${settled.size} settled tasks`);
  assert.ok(lines.some((l) => l.kind === 'seeded' && l.bars === SEED_BARS));
  assert.ok(lines.some((l) => l.kind === 'bar' && l.number === SEED_BARS));
  const text = await runToExit(['results', `--rpc-url=http://127.0.0.1:${node.rpcPort}`, '--blocks=50']);
  assert.match(text.stdout, /task \d+ (prediction|regime|risk|observation|sentiment) .*: answer \[/);

  // A new worker key, made in the node's keystore over RPC, linked from polkadot.js.
  const rpcUrl = `http://127.0.0.1:${node.rpcPort}`;
  const made = await httpRpc(rpcUrl, 'worker_generateKey');
  assert.ok(made.result, JSON.stringify(made.error));
  assert.match(made.result.public, /^0x[0-9a-f]{64}$/);
  const held = (await httpRpc(rpcUrl, 'worker_keys')).result.map((k) => k.ss58);
  for (const who of [made.result.ss58, ...['//Dave', '//Eve', '//Ferdie'].map((s) => keyring.addFromUri(s).address)]) {
    assert.ok(held.includes(who), `${who} held`);
  }
  const charlie = keyring.addFromUri('//Charlie');
  await submit(api, api.tx.inference.linkWorker(made.result.public), charlie);
  const status = await api.call.inferenceApi.operator(charlie.address);
  assert.equal(status.worker.unwrap().toString(), made.result.ss58);
});
