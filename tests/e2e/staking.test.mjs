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
