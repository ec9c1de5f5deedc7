// The core loop's runtime half on a real dev chain, driven only through polkadot.js and the
// node's own ML service: the block author's VRF feeds the beacon; a requester's sentiment task
// is assigned to live ORACLE-and-up operators, their worker keys commit and reveal the class the
// ML service gives, the task settles and pays by tier multiplier; a scheduled feed round turns
// the observers' bars into the on-chain price history. Here the test plays the workers with
// signed calls (the node's own off-chain workers are off); worker.test.mjs runs them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import {
  connect, httpRpc, removeDir, servedModels, startNode, submit as submitTo, tempDir, waitFor,
} from './lib.mjs';

const UNIT = 10n ** 12n;
const OBSERVATION_KEY = `0x${'00'.repeat(32)}`;
let node;
let api;
let basePath;
let keyring;
let sentiment;

const submit = async (tx, signer) => (await submitTo(api, tx, signer)).events;

/// Every inference event so far in blocks from `from` on, as [name, data] pairs.
async function inferenceEvents(from) {
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const out = [];
  for (let n = from; n <= head; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const events = await (await api.at(hash)).query.system.events();
    for (const { event } of events) {
      if (event.section === 'inference') out.push([event.method, event.data, n]);
    }
  }
  return out;
}

/// The commitment the pallet checks: blake2-256 of SCALE (task, operator, answer, salt).
function commitment(task, operator, answer, salt) {
  const bytes = api.createType('(u64, AccountId32, Vec<i64>, [u8; 32])', [task, operator, answer, salt]).toU8a();
  return u8aToHex(blake2AsU8a(bytes, 256));
}

async function waitForEvent(from, name, match = () => true, timeoutMs = 120_000) {
  return waitFor(async () => (await inferenceEvents(from)).find(([n, d]) => n === name && match(d)),
    { timeoutMs, intervalMs: 2_000, what: `inference.${name}` });
}

before(async () => {
  basePath = tempDir('noderr-e2e-inference-');
  node = await startNode({ basePath, extraArgs: ['--offchain-worker=never'] });
  api = await connect(node);
  keyring = new Keyring({ type: 'sr25519' });
  const models = await api.call.modelRegistryApi.activeModels('Guardian');
  sentiment = models.find((m) => m.name.toUtf8() === 'sentiment').spec.artifactHash.toHex();
  await waitFor(async () => (await servedModels(node)).includes(sentiment),
    { timeoutMs: 120_000, what: 'the sentiment model served' });
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

test('every block carries its author\'s VRF contribution to the beacon', async () => {
  await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 3,
    { what: 'block 3' });
  const [contributed, all] = (await api.query.beacon.participation()).map((x) => x.toNumber());
  assert.ok(all >= 3);
  assert.equal(contributed, all, 'Alice authors every block and signs every beacon VRF');
  const b1 = (await api.query.beacon.byBlock(1)).unwrap().toHex();
  const b2 = (await api.query.beacon.byBlock(2)).unwrap().toHex();
  assert.notEqual(b1, b2);
});

test('a sentiment task is assigned, committed, revealed, settled and paid by tier', async () => {
  const [alice, bob, dave, eve, ferdie, two] = ['//Alice', '//Bob', '//Dave', '//Eve', '//Ferdie', '//Two']
    .map((u) => keyring.addFromUri(u));
  // Worker keys from genesis: Dave submits for Alice (GUARDIAN), Eve for Bob (ORACLE), Ferdie
  // for Charlie (ALL: sentiment and observing need ORACLE, so Charlie cannot list for them).
  for (const w of [dave, eve]) {
    await submit(api.tx.inference.heartbeat([sentiment, OBSERVATION_KEY]), w);
  }
  await assert.rejects(submit(api.tx.inference.heartbeat([sentiment]), ferdie), /inference\.TierTooLow/);
  const status = await api.call.inferenceApi.operator(alice.address);
  assert.equal(status.worker.unwrap().toString(), dave.address);
  assert.ok(status.live.isTrue);

  const text = 'Driverless cars will make the roads safer for everyone!';
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  const fee = UNIT;
  const created = await submit(api.tx.inference.createTask(sentiment, { Text: text }, fee), two);
  const task = created.find(({ event }) => api.events.inference.TaskCreated.is(event)).event.data.task.toNumber();

  const [, assignedData] = await waitForEvent(start, 'TaskAssigned', (d) => d.task.toNumber() === task);
  const operators = assignedData.operators.map((a) => a.toString()).sort();
  assert.deepEqual(operators, [alice.address, bob.address].sort(), 'the ORACLE-and-up operators, not Charlie');

  // Both workers answer what their node's ML service says for the text.
  const ml = (await httpRpc(node.mlUrl, 'ml_sentiment', [sentiment, text])).result;
  const answer = [ml.class];
  const before = {};
  for (const who of [alice, bob, dave]) before[who.address] = (await api.query.system.account(who.address)).data.free.toBigInt();
  const workers = [[alice, dave], [bob, eve]];
  for (const [op, w] of workers) {
    const salt = u8aToHex(blake2AsU8a(`${op.address}-salt`, 256));
    op.salt = salt;
    await submit(api.tx.inference.commit(task, commitment(task, op.address, answer, salt)), w);
  }
  for (const [op, w] of workers) {
    await submit(api.tx.inference.reveal(task, answer, op.salt), w);
  }
  const [, settled] = await waitForEvent(start, 'TaskSettled', (d) => d.task.toNumber() === task);
  assert.deepEqual(settled.answer.map((x) => x.toNumber()), answer);
  assert.equal(settled.agreed.toNumber(), 2);

  // Fee and the 1 NODERR emission split 5 : 2 between the GUARDIAN and the ORACLE.
  const emission = UNIT;
  const share = (amount, w) => (amount * w) / 700n;
  const gained = async (who) => (await api.query.system.account(who.address)).data.free.toBigInt() - before[who.address];
  assert.equal(await gained(alice), share(fee, 500n) + share(emission, 500n));
  assert.equal(await gained(bob), share(fee, 200n) + share(emission, 200n));
  assert.equal(await gained(dave), 0n, 'accepted submissions cost the worker nothing');

  const record = await api.call.inferenceApi.task(task);
  assert.ok(record.unwrap().isFinished);
  const finished = record.unwrap().asFinished;
  assert.ok(finished.outcome.isSettled);
  assert.deepEqual(finished.operators.map((o) => o.participation.toString()), ['Agreed', 'Agreed']);
  const latest = (await api.call.inferenceApi.latestResult(sentiment)).unwrap();
  assert.equal(latest[0].toNumber(), task);
  const aliceStatus = await api.call.inferenceApi.operator(alice.address);
  assert.equal(aliceStatus.stats.agreed.toNumber(), 1);
  assert.equal(aliceStatus.stats.strikes.toNumber(), 0);
});

test('bad submissions get specific errors', async () => {
  const [dave, two] = ['//Dave', '//Two'].map((u) => keyring.addFromUri(u));
  await assert.rejects(submit(api.tx.inference.createTask(sentiment, { Text: '' }, UNIT), two), /inference\.EmptyText/);
  await assert.rejects(submit(api.tx.inference.createTask(sentiment, { Text: 'x' }, 1n), two), /inference\.FeeTooLow/);
  await assert.rejects(submit(api.tx.inference.createTask(`0x${'ab'.repeat(32)}`, { Text: 'x' }, UNIT), two), /inference\.UnknownModel/);
  await assert.rejects(submit(api.tx.inference.commit(999_999, `0x${'00'.repeat(32)}`), dave), /inference\.UnknownTask/);
  await assert.rejects(submit(api.tx.inference.heartbeat([]), two), /inference\.NotAWorker/);
});

test('a scheduled feed round adds the observers\' median bar to the price history', async () => {
  const [alice, bob, dave, eve] = ['//Alice', '//Bob', '//Dave', '//Eve'].map((u) => keyring.addFromUri(u));
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  // The schedule creates an observation every 10 blocks; wait for one assigned to both.
  const [, assigned] = await waitForEvent(start, 'TaskAssigned', (d) => d.operators.length === 2, 300_000);
  const task = assigned.task.toNumber();
  const status = (await api.call.inferenceApi.task(task)).unwrap().asOpen;
  assert.ok(status.input.isObserve);
  const barTime = status.input.asObserve.barTime.toNumber();
  const bars = {
    [alice.address]: [2_500_000_000, 2_510_000_000, 2_495_000_000, 2_505_000_000, 12_000_000],
    [bob.address]: [2_500_000_000, 2_510_000_000, 2_495_000_000, 2_505_100_000, 12_000_000],
  };
  const workers = [[alice, dave], [bob, eve]];
  for (const [op, w] of workers) {
    const salt = u8aToHex(blake2AsU8a(`${op.address}-bar`, 256));
    op.barSalt = salt;
    await submit(api.tx.inference.commit(task, commitment(task, op.address, bars[op.address], salt)), w);
  }
  for (const [op, w] of workers) {
    await submit(api.tx.inference.reveal(task, bars[op.address], op.barSalt), w);
  }
  const [, added] = await waitForEvent(start, 'BarAdded', () => true);
  assert.equal(added.bar.time.toNumber(), barTime);
  const history = await api.call.inferenceApi.bars(0, 1);
  assert.equal(history.length, 1);
  const close = history[0][1].close.toNumber();
  assert.ok([2_505_000_000, 2_505_100_000].includes(close), `median close ${close}`);
});
