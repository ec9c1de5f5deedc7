// The core loop on the three-node `local` network, one operator per node, started as operators
// start it: Alice and Bob are the validators and run the GUARDIAN and ORACLE operators' workers
// (Dave, Eve) with their embedded ML service and the market replay; Charlie's node is a full
// node running the ALL operator's worker (Ferdie) against a standalone `noderr-ml serve`.
// - Every task settles with every operator agreeing, and the price aggregate equals, bit for
//   bit, what each node's own ML service answers for the same on-chain window.
// - Charlie's ML service is then killed: his operator misses (a strike in its status, a miss in
//   his node's metrics), declares no models within a check interval so that he is no longer
//   assigned, and Alice's and Bob's operators still settle every task.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  artifactsDir, barWindow, connect, freePort, httpRpc, mlBinary, removeDir, startLocalValidators, startNode, submit, tempDir, waitFor,
} from './lib.mjs';
import { SEED_BARS, readBars, replayServer, seedFeed } from './devnet.mjs';

const UNIT = 10n ** 12n;

let keyring;
let replay;
let external; // Charlie's standalone ML service
let externalUrl;
const nodes = {};
const apis = {};
const dirs = [];
let models = {};
const ops = {};

function startExternalMl(port) {
  const child = spawn(mlBinary, ['serve', `--models=${artifactsDir}`, `--rpc-addr=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log = (log + d).slice(-20_000); });
  child.log = () => log;
  return child;
}

async function served(url) {
  const r = await httpRpc(url, 'ml_listModels').catch(() => null);
  return r?.result?.map((m) => m.hash) ?? [];
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  for (const who of ['Alice', 'Bob', 'Charlie']) ops[who] = keyring.addFromUri(`//${who}`).address;
  replay = await replayServer({ bars: readBars() });
  const source = `--market-source=binance=http://127.0.0.1:${replay.address().port}`;
  const port = await freePort();
  externalUrl = `http://127.0.0.1:${port}`;
  external = startExternalMl(port);
  dirs.push(tempDir('noderr-e2e-net-alice-'), tempDir('noderr-e2e-net-bob-'), tempDir('noderr-e2e-net-charlie-'));
  const { boot, ...validators } = await startLocalValidators({ aliceDir: dirs[0], bobDir: dirs[1], extraArgs: [source] });
  Object.assign(nodes, validators);
  nodes.charlie = await startNode({
    chain: 'local', basePath: dirs[2], validatorFlag: '--charlie', mlModels: null,
    extraArgs: [boot, `--ml-external=${externalUrl}`],
  });
  nodes.charlie.mlUrl = externalUrl;
  for (const [name, node] of Object.entries(nodes)) apis[name] = await connect(node);
  for (const m of await apis.alice.call.modelRegistryApi.activeModels('Guardian')) {
    models[m.name.toUtf8()] = m.spec.artifactHash.toHex();
  }
  await waitFor(async () => {
    for (const node of Object.values(nodes)) if ((await served(node.mlUrl)).length < 4) return false;
    return true;
  }, { timeoutMs: 180_000, what: 'every ML service serving the default models' });
  await waitFor(async () => (await apis.charlie.rpc.system.health()).peers.toNumber() >= 2,
    { timeoutMs: 60_000, what: "Charlie's node connected to both validators" });
  const n = await seedFeed(apis.alice, { bars: readBars(), signer: keyring.addFromUri('//Alice') });
  assert.equal(n, SEED_BARS);
});

after(async () => {
  for (const api of Object.values(apis)) await api.disconnect();
  for (const node of Object.values(nodes)) await node.stop();
  external?.kill('SIGKILL');
  replay?.close();
  dirs.forEach(removeDir);
});

/** Task `id`'s finished record as a node's runtime API gives it, or null while open. */
async function finished(api, id) {
  const s = await api.call.inferenceApi.task(id);
  return s.isSome && s.unwrap().isFinished ? s.unwrap().asFinished : null;
}

/** Ids of the tasks created so far (TaskCreated events are not kept: the task count). */
async function taskCount(api) {
  return (await api.query.inference.nextTaskId()).toNumber();
}

/** Waits for the first task from `from` on with `pred(status)`; resolves with its id and its
 * open status if it was still open when found (tasks stay open for several blocks, longer than
 * the 2 s between looks). */
async function findTask(api, from, pred, what, timeoutMs = 240_000) {
  let found = null;
  await waitFor(async () => {
    const next = await taskCount(api);
    for (let id = from; id < next; id += 1) {
      const s = await api.call.inferenceApi.task(id);
      if (s.isNone) continue;
      const t = s.unwrap();
      const status = t.isOpen ? t.asOpen : t.asFinished;
      if (pred(status)) { found = { id, open: t.isOpen ? t.asOpen : null }; return true; }
    }
    return false;
  }, { timeoutMs, intervalMs: 2_000, what });
  return found;
}

const isModel = (name) => (s) => s.model.isSome && s.model.unwrap().toHex() === models[name];

test('every task settles with every operator agreeing, bit-identical across the nodes', async () => {
  // A scheduled price task seen while open (its input names the window), once settled.
  let price;
  await waitFor(async () => {
    price = await findTask(apis.alice, price ? price.id + 1 : 0, isModel('price-transformer'), 'a scheduled price task');
    return price.open !== null;
  }, { timeoutMs: 300_000, intervalMs: 100, what: 'a price task seen open' });
  const end = price.open.input.asHistory.end.toNumber();
  await waitFor(async () => (await finished(apis.alice, price.id)) !== null,
    { timeoutMs: 120_000, intervalMs: 2_000, what: `price task ${price.id} finished` });
  const record = await finished(apis.alice, price.id);
  assert.ok(record.outcome.isSettled, record.outcome.toString());
  const assigned = record.operators.map((o) => o.who.toString()).sort();
  assert.deepEqual(assigned, Object.values(ops).sort(), 'the three operators, one per node');
  const aggregate = record.outcome.asSettled.answer.map((x) => x.toNumber());
  for (const o of record.operators) {
    assert.ok(o.participation.isAgreed, `${o.who}: ${o.participation}`);
    assert.deepEqual(o.answer.unwrap().map((x) => x.toNumber()), aggregate, `${o.who} revealed the aggregate exactly`);
  }
  for (const [name, node] of Object.entries(nodes)) {
    // The same record on every node's chain, and each node's own ML service, asked for the
    // task's on-chain window as that node reads it, answers the aggregate exactly.
    assert.equal((await finished(apis[name], price.id)).toHex(), record.toHex(), `${name}'s chain holds the same record`);
    const ml = await httpRpc(node.mlUrl, 'ml_predict', { model: models['price-transformer'], bars: await barWindow(apis[name], end, 310) });
    assert.ok(ml.result, `${name}: ${JSON.stringify(ml.error)}`);
    assert.deepEqual([ml.result.return, ml.result.volatility, ml.result.confidence], aggregate, `${name}'s ML service answers the aggregate`);
  }
  // The round's observation and other models settle too, everyone assigned agreeing.
  for (const [what, pred] of [['observation', (s) => s.model.isNone], ['gaf-regime', isModel('gaf-regime')], ['msrr', isModel('msrr')]]) {
    const { id } = await findTask(apis.alice, 0, pred, `a ${what} task`);
    await waitFor(async () => (await finished(apis.bob, id)) !== null, { timeoutMs: 120_000, intervalMs: 2_000, what: `${what} task ${id} finished` });
    const r = await finished(apis.bob, id);
    assert.ok(r.outcome.isSettled && r.operators.every((o) => o.participation.isAgreed), `${what}: ${r.toString()}`);
  }
});

/** Charlie's worker's persisted block of its last check of the ML service's models. */
async function checkedAt() {
  const key = `0x${Buffer.from('noderr/served-checked-at').toString('hex')}`;
  const r = await httpRpc(`http://127.0.0.1:${nodes.charlie.rpcPort}`, 'offchain_localStorageGet', ['PERSISTENT', key]);
  return r.result ? Buffer.from(r.result.slice(2), 'hex').readUInt32LE(0) : null;
}

async function metric(node, name) {
  const text = await (await fetch(`http://127.0.0.1:${node.promPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test("with its ML service stopped, Charlie's operator misses, is no longer assigned, and the others settle", async () => {
  const alice = keyring.addFromUri('//Alice');
  const strikesBefore = (await apis.alice.call.inferenceApi.operator(ops.Charlie)).stats.strikes.toNumber();
  // Kill the service right after the worker compared its models with its heartbeat, and while
  // that heartbeat is not due for renewal (which also asks the service), so the task created
  // now is assigned to him before his worker notices.
  const period = (await apis.alice.query.inference.configuration()).heartbeatPeriod.toNumber();
  await waitFor(async () => {
    const last = await checkedAt();
    await waitFor(async () => (await checkedAt()) !== last, { timeoutMs: 120_000, intervalMs: 200, what: "Charlie's worker checking its models" });
    const now = (await apis.charlie.rpc.chain.getHeader()).number.toNumber();
    const beat = (await apis.charlie.call.inferenceApi.operator(ops.Charlie)).heartbeat.unwrap()[0].toNumber();
    return now + 8 < beat + Math.floor(period / 2);
  }, { timeoutMs: 600_000, intervalMs: 0, what: 'a check well before the heartbeat renewal' });
  external.kill('SIGKILL');
  const from = await taskCount(apis.alice);
  const end = (await apis.alice.call.inferenceApi.bars(0, 1))[0][0].toNumber();
  await submit(apis.alice, apis.alice.tx.inference.createTask(models['price-transformer'], { History: { feed: 0, end } }, UNIT), alice);
  const { id: missed } = await findTask(apis.alice, from, (s) => isModel('price-transformer')(s)
    && (s.assigned ?? s.operators.map((o) => o.who)).some((w) => w.toString() === ops.Charlie), 'a price task assigned to Charlie', 60_000);
  await waitFor(async () => (await finished(apis.alice, missed)) !== null, { timeoutMs: 120_000, intervalMs: 2_000, what: `task ${missed} finished` });
  const record = await finished(apis.alice, missed);
  assert.ok(record.outcome.isSettled, `the others settle it: ${record.outcome}`);
  for (const o of record.operators) {
    const charlie = o.who.toString() === ops.Charlie;
    assert.ok(charlie ? o.participation.isNotCommitted : o.participation.isAgreed, `${o.who}: ${o.participation}`);
  }
  const status = await apis.alice.call.inferenceApi.operator(ops.Charlie);
  assert.ok(status.stats.strikes.toNumber() > strikesBefore, 'the miss is a strike in the status');
  assert.match(nodes.charlie.log(), /task \d+: skipped, MlUnreachable/);
  assert.ok(await metric(nodes.charlie, 'noderr_worker_tasks_missed_total{reason="ml_unreachable"'), 'the miss in his metrics');

  // Within a check interval his worker declares no models: no more price tasks for him.
  await waitFor(async () => {
    const s = await apis.alice.call.inferenceApi.operator(ops.Charlie);
    return s.heartbeat.isSome && !s.heartbeat.unwrap()[1].some((k) => k.toHex() === models['price-transformer']);
  }, { timeoutMs: 120_000, intervalMs: 2_000, what: 'Charlie declaring no models' });
  assert.match(nodes.charlie.log(), /ML service unavailable .*declaring no models/);
  const after = await taskCount(apis.alice);
  const end2 = (await apis.alice.call.inferenceApi.bars(0, 1))[0][0].toNumber();
  await submit(apis.alice, apis.alice.tx.inference.createTask(models['price-transformer'], { History: { feed: 0, end: end2 } }, UNIT), alice);
  const { id: next } = await findTask(apis.alice, after, isModel('price-transformer'), 'the next price task');
  await waitFor(async () => (await finished(apis.alice, next)) !== null, { timeoutMs: 120_000, intervalMs: 2_000, what: `task ${next} finished` });
  const r = await finished(apis.alice, next);
  assert.deepEqual(r.operators.map((o) => o.who.toString()).sort(), [ops.Alice, ops.Bob].sort());
  assert.ok(r.outcome.isSettled && r.operators.every((o) => o.participation.isAgreed), r.toString());
});
