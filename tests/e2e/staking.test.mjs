// Operator onboarding and bonding as a staker does it from polkadot.js: apply, governance
// approval through sudo, bond, and the runtime API's view of the operator.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { connect, removeDir, startNode, submit as submitTo, tempDir, waitFor } from './lib.mjs';

const UNIT = 10n ** 12n;
let node;
let api;
let basePath;
let keyring;
const submit = async (tx, signer) => (await submitTo(api, tx, signer)).events;

before(async () => {
  basePath = tempDir('noderr-e2e-staking-');
  node = await startNode({ basePath });
  api = await connect(node);
  keyring = new Keyring({ type: 'sr25519' });
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});


test('genesis operators are in their tiers, visible through the runtime API', async () => {
  const alice = keyring.addFromUri('//Alice');
  const status = await api.call.stakingTiersApi.operatorStatus(alice.address);
  assert.equal(status.tier.toString(), 'Guardian');
  assert.equal(status.active.toBigInt(), 10_000n * UNIT);
  const oracles = await api.call.stakingTiersApi.operatorsOfTier('Oracle');
  assert.equal(oracles.length, 2, 'Alice and Bob are ORACLE or above');
});

test('apply, approve through sudo, bond: the operator is queued for the ORACLE tier', async () => {
  const alice = keyring.addFromUri('//Alice');
  const dave = keyring.addFromUri('//Dave');

  await submit(api.tx.stakingTiers.apply('dave-node', 'ops@dave.example', 'eu-west', 'SingleGpu'), dave);
  let record = (await api.query.stakingTiers.operators(dave.address)).unwrap();
  assert.equal(record.state.toString(), 'Pending');

  // Bonding before approval fails with the pallet's own error, readable in apps.
  await assert.rejects(submit(api.tx.stakingTiers.bond(5_000n * UNIT), dave), /stakingTiers\.NotApproved/);

  await submit(api.tx.sudo.sudo(api.tx.stakingTiers.approve(dave.address)), alice);
  record = (await api.query.stakingTiers.operators(dave.address)).unwrap();
  assert.equal(record.state.toString(), 'Approved');

  const events = await submit(api.tx.stakingTiers.bond(5_000n * UNIT), dave);
  assert.ok(events.some(({ event }) => api.events.stakingTiers.Bonded.is(event)), 'Bonded event');

  const held = await api.query.balances.holds(dave.address);
  assert.equal(held.length, 1);
  assert.equal(held[0].amount.toBigInt(), 5_000n * UNIT);

  const status = await api.call.stakingTiersApi.operatorStatus(dave.address);
  assert.equal(status.state.toString(), 'Approved');
  // The tier moves at the next epoch boundary: the dev genesis makes epochs 10 blocks long, so
  // a new operator works within a minute (unless the boundary already passed).
  if (status.tier.isNone) assert.equal(status.nextTier.toString(), 'Oracle');
  await waitFor(async () => {
    const s = await api.call.stakingTiersApi.operatorStatus(dave.address);
    return s.tier.isSome && s.tier.unwrap().toString() === 'Oracle';
  }, { timeoutMs: 90_000, what: 'the ORACLE tier within an epoch of 10 blocks' });
});

test('Prometheus serves the node metrics', async () => {
  const res = await fetch(`http://127.0.0.1:${node.promPort}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /substrate_block_height\{status="finalized"/);
});

test('fees price length (payment_queryInfo), and an oversized application never reaches the pool', async () => {
  const eve = keyring.addFromUri('//Eve');
  // One MiB of remark: at 10 micro-NODERR a byte it costs over 10 NODERR.
  const big = await api.tx.system.remark(`0x${'00'.repeat(1 << 20)}`).signAsync(eve);
  // The raw JSON-RPC answer: this polkadot.js decodes the method's older weight type only.
  const queryFee = async (tx) => BigInt((await api._rpcCore.provider.send('payment_queryInfo', [tx.toHex()])).partialFee);
  const bigFee = await queryFee(big);
  assert.ok(bigFee >= 10n * UNIT, `1 MiB costs ${bigFee}`);
  const small = await api.tx.system.remark('0x00').signAsync(eve, { nonce: 1 });
  const smallFee = await queryFee(small);
  assert.ok(smallFee < UNIT / 100n, `a small call costs ${smallFee}`);

  // A display name over its 64-byte bound does not decode: the pool refuses it outright, and
  // nothing about Eve changes.
  const before = (await api.query.system.account(eve.address)).data.free.toBigInt();
  const oversized = await api.tx.stakingTiers.apply('x'.repeat(65), '', '', 'Cpu').signAsync(eve);
  await assert.rejects(api.rpc.author.submitExtrinsic(oversized.toHex()), /decode|format|1001|1002|1010/i);
  assert.ok((await api.query.stakingTiers.operators(eve.address)).isNone);
  assert.equal((await api.query.system.account(eve.address)).data.free.toBigInt(), before);
});
