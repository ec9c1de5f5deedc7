// Governance changes the block authors without a runtime upgrade, following the README's
// "Inserting keys on a real validator": Bob's node generates its session keys with a proof of
// ownership, Bob registers them, sudo adds Bob to the validator set, Bob authors and votes;
// then sudo removes him again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { xxhashAsHex } from '@polkadot/util-crypto';
import {
  ALICE_NODE_KEY, ALICE_PEER_ID, connect, freePort, removeDir, startNode, submit as submitTo, tempDir, waitFor,
} from './lib.mjs';

const SESSION_BLOCKS = 5;

let alice;
let bob;
let api;
let apiBob;
let keyring;
const submit = (tx, signer) => submitTo(api, tx, signer);
const dirs = [];

before(async () => {
  dirs.push(tempDir('noderr-e2e-val-alice-'), tempDir('noderr-e2e-val-bob-'));
  const aliceP2p = await freePort();
  alice = await startNode({ basePath: dirs[0], p2pPort: aliceP2p, extraArgs: [`--node-key=${ALICE_NODE_KEY}`] });
  // Bob's node starts with an empty keystore: its keys come from author_rotateKeysWithOwner.
  bob = await startNode({
    chain: 'dev',
    basePath: dirs[1],
    validatorFlag: null,
    extraArgs: [`--bootnodes=/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`],
    forceChainFlag: true,
  });
  api = await connect(alice);
  apiBob = await connect(bob);
  keyring = new Keyring({ type: 'sr25519' });
});

after(async () => {
  await api?.disconnect();
  await apiBob?.disconnect();
  await alice?.stop();
  await bob?.stop();
  dirs.forEach(removeDir);
});


async function validators() {
  return (await api.query.session.validators()).map((v) => v.toString());
}

async function authorOf(hash) {
  const at = await api.at(hash);
  const slot = (await at.query.aura.currentSlot()).toNumber();
  const set = (await at.query.session.validators()).map((v) => v.toString());
  return set[slot % set.length];
}

test('governance adds a validator that registered proven keys; it authors and votes', async () => {
  const sudo = keyring.addFromUri('//Alice');
  const bobAccount = keyring.addFromUri('//Bob');
  await waitFor(async () => (await apiBob.rpc.system.health()).peers.toNumber() >= 1,
    { timeoutMs: 60_000, what: 'Bob to connect to Alice' });

  // Short sessions, set by governance at run time.
  const period = u8aToHex(api.createType('u32', SESSION_BLOCKS).toU8a()); // SCALE: little endian
  await submit(api.tx.sudo.sudo(api.tx.system.setStorage([[xxhashAsHex(':SessionPeriod:', 128), period]])), sudo);

  // A plain JSON-RPC call, as an operator's script would make it.
  const raw = new WsProvider(bob.url);
  await raw.isReady;
  const generated = await raw.send('author_rotateKeysWithOwner', [u8aToHex(bobAccount.publicKey)]);
  await raw.disconnect();
  assert.ok(generated.keys && generated.proof, 'keys and proof from the node');
  // A proof for another owner is refused.
  const charlie = keyring.addFromUri('//Charlie');
  await assert.rejects(submit(api.tx.session.setKeys(generated.keys, generated.proof), charlie));
  await submit(api.tx.session.setKeys(generated.keys, generated.proof), bobAccount);

  await submit(api.tx.sudo.sudo(api.tx.validatorSet.addValidator(bobAccount.address)), sudo);
  assert.deepEqual(await validators(), [sudo.address]);
  await waitFor(async () => (await validators()).includes(bobAccount.address),
    { timeoutMs: 180_000, intervalMs: 1_000, what: 'Bob in the active validator set' });
  const grandpa = await api.call.grandpaApi.grandpaAuthorities();
  assert.equal(grandpa.length, 2, 'GRANDPA has two voters');

  const bobBlock = await waitFor(async () => {
    const header = await api.rpc.chain.getHeader();
    return (await authorOf(header.hash)) === bobAccount.address ? header.number.toNumber() : 0;
  }, { timeoutMs: 60_000, intervalMs: 1_000, what: 'a block authored by Bob' });
  // Finality past Bob's block needs both votes now.
  await waitFor(async () => {
    const f = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
    return f.number.toNumber() >= bobBlock;
  }, { timeoutMs: 90_000, what: `finality of Bob's block #${bobBlock}` });
});

test('governance removes the validator again', async () => {
  const sudo = keyring.addFromUri('//Alice');
  const bobAccount = keyring.addFromUri('//Bob');
  await submit(api.tx.sudo.sudo(api.tx.validatorSet.removeValidator(bobAccount.address)), sudo);
  await waitFor(async () => !(await validators()).includes(bobAccount.address),
    { timeoutMs: 180_000, intervalMs: 1_000, what: 'Bob out of the active set' });
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= best + 2,
    { timeoutMs: 60_000, what: 'Alice producing alone' });
});
