// The two-validator `local` network, started as the README tells operators to: Alice with a
// fixed node key, Bob bootstrapping from her. Both must author, and GRANDPA (which needs both
// votes) must finalize.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, freePort, removeDir, startNode, tempDir, waitFor } from './lib.mjs';

const ALICE_NODE_KEY = '0000000000000000000000000000000000000000000000000000000000000001';
const ALICE_PEER_ID = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';

let alice;
let bob;
let apiAlice;
let apiBob;
const dirs = [];

before(async () => {
  dirs.push(tempDir('noderr-e2e-alice-'), tempDir('noderr-e2e-bob-'));
  const aliceP2p = await freePort();
  alice = await startNode({
    chain: 'local',
    basePath: dirs[0],
    p2pPort: aliceP2p,
    extraArgs: [`--node-key=${ALICE_NODE_KEY}`],
  });
  bob = await startNode({
    chain: 'local',
    basePath: dirs[1],
    validatorFlag: '--bob',
    extraArgs: [`--bootnodes=/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`],
  });
  apiAlice = await connect(alice);
  apiBob = await connect(bob);
});

after(async () => {
  await apiAlice?.disconnect();
  await apiBob?.disconnect();
  await alice?.stop();
  await bob?.stop();
  dirs.forEach(removeDir);
});

test('the nodes find each other', async () => {
  await waitFor(async () => (await apiBob.rpc.system.health()).peers.toNumber() >= 1,
    { timeoutMs: 60_000, what: 'Bob to see Alice' });
  assert.equal((await apiAlice.rpc.system.chain()).toString(), 'Noderr Local Testnet');
});

test('both validators author blocks and both finalize them', async () => {
  const authors = new Set();
  await waitFor(async () => {
    const header = await apiBob.rpc.chain.getHeader();
    if (header.number.toNumber() === 0) return false;
    const at = await apiBob.at(header.hash);
    const slot = (await at.query.aura.currentSlot()).toNumber();
    const validators = await at.query.session.validators();
    authors.add(validators[slot % validators.length].toString());
    return authors.size === 2;
  }, { timeoutMs: 90_000, intervalMs: 2_000, what: 'blocks from both Alice and Bob' });

  const target = (await apiBob.rpc.chain.getHeader()).number.toNumber();
  for (const api of [apiAlice, apiBob]) {
    await waitFor(async () => {
      const f = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
      return f.number.toNumber() >= target;
    }, { timeoutMs: 90_000, what: `finality of block #${target}` });
  }
  const hashA = (await apiAlice.rpc.chain.getBlockHash(target)).toHex();
  const hashB = (await apiBob.rpc.chain.getBlockHash(target)).toHex();
  assert.equal(hashA, hashB, 'both nodes finalized the same chain');
});
