// A node killed (SIGKILL) after its workers committed and before they revealed reveals after
// its restart, from what it persisted before committing: the task settles with every operator
// agreeing, none counted as missing.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, httpRpc, removeDir, servedModels, startNode, submit, tempDir, waitFor } from './lib.mjs';

const UNIT = 10n ** 12n;
let node;
let api;
const basePath = tempDir('noderr-e2e-worker-restart-');

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

test('a worker killed between commit and reveal reveals after restart', async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  node = await startNode({ basePath });
  api = await connect(node);
  const sentiment = (await api.call.modelRegistryApi.activeModels('Guardian'))
    .find((m) => m.name.toUtf8() === 'sentiment').spec.artifactHash.toHex();
  await waitFor(async () => (await servedModels(node)).includes(sentiment), { timeoutMs: 120_000, what: 'sentiment served' });
  await waitFor(async () => (await api.call.inferenceApi.operator(keyring.addFromUri('//Bob').address)).live.isTrue,
    { timeoutMs: 60_000, what: "Bob's worker live" });

  const text = 'Regulators approved the merger and shares jumped';
  const { events } = await submit(api, api.tx.inference.createTask(sentiment, { Text: text }, UNIT), keyring.addFromUri('//Two'));
  const task = events.find(({ event }) => api.events.inference.TaskCreated.is(event)).event.data.task.toNumber();

  // Kill the node the moment every assigned operator's commitment is on chain.
  await waitFor(async () => {
    const s = await api.call.inferenceApi.task(task);
    if (s.isNone || !s.unwrap().isOpen) return false;
    const open = s.unwrap().asOpen;
    return open.assigned.length > 0 && open.committed.length === open.assigned.length;
  }, { timeoutMs: 90_000, intervalMs: 100, what: 'every commitment on chain' });
  node.child.kill('SIGKILL');
  await node.exited;
  await api.disconnect().catch(() => {});

  node = await startNode({ basePath });
  api = await connect(node);
  const finished = await waitFor(async () => {
    const s = await api.call.inferenceApi.task(task);
    return s.isSome && s.unwrap().isFinished ? s.unwrap().asFinished : null;
  }, { timeoutMs: 180_000, intervalMs: 1_000, what: `task ${task} settled after the restart` });
  assert.ok(finished.outcome.isSettled, finished.outcome.toString());
  assert.ok(finished.operators.every((o) => o.participation.isAgreed), 'nobody missed');
  const ml = await httpRpc(node.mlUrl, 'ml_sentiment', { model: sentiment, text });
  assert.deepEqual(finished.outcome.asSettled.answer.map((x) => x.toNumber()), [ml.result.class]);
  assert.match(node.log(), /task \d+: revealed/);
});
