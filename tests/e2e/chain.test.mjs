// The dev chain as polkadot.js users see it: metadata, blocks every 6 s, GRANDPA finality,
// a signed transfer that finalizes, and the node's idle footprint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { mnemonicGenerate } from '@polkadot/util-crypto';
import { connect, removeDir, rssMiB, startNode, submit, tempDir, waitFor } from './lib.mjs';

let node;
let api;
let basePath;

before(async () => {
  basePath = tempDir('noderr-e2e-chain-');
  node = await startNode({ basePath });
  api = await connect(node);
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

test('metadata and chain properties describe the Noderr runtime', async () => {
  const version = api.runtimeVersion;
  assert.equal(version.specName.toString(), 'noderr');
  assert.ok(api.runtimeMetadata.version >= 15, `metadata v${api.runtimeMetadata.version}`);
  const props = api.registry.getChainProperties();
  assert.equal(props.tokenSymbol.unwrap()[0].toString(), 'NODERR');
  assert.equal(props.tokenDecimals.unwrap()[0].toNumber(), 12);
  for (const pallet of ['system', 'balances', 'session', 'validatorSet', 'aura', 'grandpa', 'sudo']) {
    assert.ok(api.tx[pallet] || api.query[pallet], `pallet ${pallet} in metadata`);
  }
  assert.equal((await api.rpc.system.chain()).toString(), 'Noderr Development');
});

test('first block within 15 s, then one block per 6 s slot, finality lag at most 3', async () => {
  const first = await waitFor(async () => {
    const n = (await api.rpc.chain.getHeader()).number.toNumber();
    return n >= 1 ? Date.now() : 0;
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'block #1' });
  const firstBlockSeconds = (first - node.startedAt) / 1000;
  console.log(`# first block ${firstBlockSeconds.toFixed(1)} s after start`);
  assert.ok(firstBlockSeconds <= 15, `first block after ${firstBlockSeconds} s`);

  await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 5,
    { timeoutMs: 60_000, what: 'block #5' });
  const slotMs = (await api.call.auraApi.slotDuration()).toNumber();
  assert.equal(slotMs, 6000, 'Aura slot duration');
  const slots = [];
  const stamps = [];
  for (let n = 2; n <= 5; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    slots.push((await at.query.aura.currentSlot()).toNumber());
    stamps.push((await at.query.timestamp.now()).toNumber());
  }
  for (let i = 1; i < slots.length; i++) {
    assert.equal(slots[i] - slots[i - 1], 1, 'one block in every slot, none skipped');
    // Timestamps are the author's clock when proposing: within a second of the slot.
    assert.ok(Math.abs(stamps[i] - stamps[i - 1] - slotMs) < 1000, `block interval ${stamps[i] - stamps[i - 1]} ms`);
  }
  console.log(`# block intervals (ms): ${stamps.slice(1).map((t, i) => t - stamps[i]).join(' ')}`);

  const lags = [];
  for (let i = 0; i < 4; i++) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    lags.push(best - finalized);
    await new Promise((r) => setTimeout(r, 3000));
  }
  console.log(`# finality lag samples (blocks): ${lags.join(' ')}`);
  assert.ok(Math.max(...lags) <= 3, `finality lag ${Math.max(...lags)} blocks`);
});

test('a signed transfer from Alice finalizes and moves the balance', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const dest = keyring.addFromMnemonic(mnemonicGenerate());
  const amount = 25n * 10n ** 12n; // 25 NODERR
  const aliceBefore = (await api.query.system.account(alice.address)).data.free.toBigInt();

  const { blockHash: finalizedIn } = await submit(
    api, api.tx.balances.transferKeepAlive(dest.address, amount), alice, { finalized: true });

  const at = await api.at(finalizedIn);
  const destAfter = (await at.query.system.account(dest.address)).data.free.toBigInt();
  const aliceAfter = (await at.query.system.account(alice.address)).data.free.toBigInt();
  assert.equal(destAfter, amount);
  const fee = aliceBefore - aliceAfter - amount;
  assert.ok(fee > 0n && fee < 10n ** 12n, `fee ${fee} is positive and below 1 NODERR`);
  const events = await at.query.system.events();
  assert.ok(events.some(({ event }) => api.events.balances.Transfer.is(event)), 'Transfer event');
});

test('idle dev node with the four default models stays near 300 MiB resident memory', async () => {
  const rss = rssMiB(node.child.pid);
  console.log(`# idle RSS ${rss.toFixed(1)} MiB`);
  // The node links libtorch and its embedded ML service holds the four default models (about
  // 92 MiB of float32 weights, 87 of them the MiniLM encoder), one copy shared by the service's
  // engines, with the allocator's freed buffers returned after loading: measured 287-295 MiB over
  // the first two minutes (411 MiB before the buffers were returned). The target is 300 MiB;
  // the bound leaves room for another processor's libtorch kernels.
  assert.ok(rss < 320, `RSS ${rss} MiB`);
});
