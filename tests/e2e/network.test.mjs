// The two-validator `local` network, started as the README tells operators to: Alice with a
// fixed node key, Bob bootstrapping from her. Both must author, and GRANDPA (which needs both
// votes) must finalize. Only Alice has the model artifacts (in her store; her own tier, ALL,
// serves only the price model): Bob, an ORACLE, fetches all four from her over the peer
// protocol, verifies and serves them; bytes from her that do not verify are refused and Bob
// keeps serving the previous version. A third node killed in the middle of a peer download
// resumes it from its partial file after the restart and leaves nothing behind.
import assert from 'node:assert/strict';
import {
  copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex } from '@polkadot/util-crypto';
import {
  ALICE_NODE_KEY, ALICE_PEER_ID, artifactsDir, connect, freePort, httpRpc, lastBars, registrationCall, removeDir, runToExit,
  servedModels, startNode, submit, tempDir, trainMsrrV11, waitFor, waitForLog,
} from './lib.mjs';

// Operators in the local genesis: Bob is ORACLE, Charlie ALL.
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const CHARLIE = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';

/// The sentiment artifact's size as the node's progress lines print it (MiB, one decimal),
/// escaped for a regular expression.
const SENTIMENT_BYTES = statSync(path.join(artifactsDir, 'sentiment.nrm')).size;
const SENTIMENT_MIB = (SENTIMENT_BYTES / 2 ** 20).toFixed(1).replace('.', '\\.');

/// Where a node's store keeps the artifact with these bytes.
function storePath(basePath, bytes) {
  return path.join(basePath, 'models', 'blake2-256', `${blake2AsHex(bytes, 256).slice(2)}.nrm`);
}

let alice;
let bob;
let aliceP2p;
let apiAlice;
let apiBob;
const dirs = [];

before(async () => {
  dirs.push(tempDir('noderr-e2e-alice-'), tempDir('noderr-e2e-bob-'));
  // Alice's store holds the four default artifacts, as after an earlier run.
  mkdirSync(path.join(dirs[0], 'models', 'blake2-256'), { recursive: true });
  for (const f of readdirSync(artifactsDir).filter((n) => n.endsWith('.nrm'))) {
    const file = path.join(artifactsDir, f);
    copyFileSync(file, storePath(dirs[0], readFileSync(file)));
  }
  aliceP2p = await freePort();
  alice = await startNode({
    chain: 'local',
    basePath: dirs[0],
    p2pPort: aliceP2p,
    mlModels: null,
    extraArgs: [`--node-key=${ALICE_NODE_KEY}`, `--ml-operator=${CHARLIE}`],
  });
  bob = await startNode({
    chain: 'local',
    basePath: dirs[1],
    validatorFlag: '--bob',
    mlModels: null,
    extraArgs: [
      `--bootnodes=/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`,
      `--ml-operator=${BOB}`,
    ],
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

test('Bob gets the models of his tier from Alice over the peer protocol and serves them', async () => {
  const registered = (await apiBob.call.modelRegistryApi.activeModels('Oracle'))
    .map((m) => m.spec.artifactHash.toHex()).sort();
  assert.equal(registered.length, 4);
  await waitFor(async () => (await servedModels(bob)).length === 4,
    { timeoutMs: 120_000, intervalMs: 1_000, what: 'Bob serving the four models' });
  assert.deepEqual(await servedModels(bob), registered);
  for (const name of ['sentiment', 'price-transformer', 'gaf-regime', 'msrr']) {
    await waitForLog(bob, new RegExp(`${name} 1\\.0\\.0 fetched from peer ${ALICE_PEER_ID} and verified`));
  }
  // The 87 MiB sentiment artifact reports progress.
  await waitForLog(bob, new RegExp(`sentiment 1\\.0\\.0 from peer \\S+: [\\d.]+ of ${SENTIMENT_MIB} MiB \\(50%\\)`));

  // Same model, same input, two nodes: the same fixed-point answer.
  const price = (await apiBob.call.modelRegistryApi.model('price-transformer', { major: 1, minor: 0, patch: 0 }))
    .unwrap().spec.artifactHash.toHex();
  const bars = lastBars(350);
  const a = await httpRpc(alice.mlUrl, 'ml_predict', { model: price, bars });
  const b = await httpRpc(bob.mlUrl, 'ml_predict', { model: price, bars });
  assert.ok(a.result, JSON.stringify(a));
  assert.deepEqual(b.result, a.result);

  // Prometheus: four artifacts from peers, four served.
  const metrics = await (await fetch(`http://127.0.0.1:${bob.promPort}/metrics`)).text();
  const fromPeers = metrics.split('\n').find((l) => l.startsWith('noderr_model_fetches_total{')
    && l.includes('source="peer"') && l.includes('outcome="ok"'));
  assert.match(fromPeers ?? '', / 4$/, metrics.split('\n').filter((l) => l.startsWith('noderr_model')).join('\n'));
  assert.match(metrics, /^noderr_models_served(\{[^}]*\})? 4$/m);
  assert.match(metrics, /^noderr_models_wanted(\{[^}]*\})? 4$/m);

  // The operator's view: every model of the tier present and served.
  const out = await runToExit(['models', `--rpc-url=http://127.0.0.1:${bob.rpcPort}`]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /this node serves tier Oracle/);
  const rows = out.stdout.split('\n').filter((l) => /^(price-transformer|gaf-regime|msrr|sentiment)\s/.test(l));
  assert.equal(rows.length, 4, out.stdout);
  for (const row of rows) assert.match(row, /live\s+yes\s+present\s+yes\s+0x/, row);
});

test('bytes from a peer that do not verify are refused; Bob keeps the previous version until good ones come', async () => {
  const v11Path = path.join(dirs[0], 'msrr-1.1.0.nrm');
  const v11 = await trainMsrrV11(v11Path);
  const v11Hash = blake2AsHex(v11, 256);
  // Alice's copy is damaged: same name, same size, one byte flipped.
  const damaged = Buffer.from(v11);
  damaged[damaged.length - 20] ^= 0x01;
  writeFileSync(storePath(dirs[0], v11), damaged);

  const now = (await apiAlice.rpc.chain.getHeader()).number.toNumber();
  const { tx } = await registrationCall(apiAlice, v11Path, ['--activate-at', String(now + 2)]);
  await submit(apiAlice, tx, new Keyring({ type: 'sr25519' }).addFromUri('//Alice'));

  const v1Hash = (await apiBob.call.modelRegistryApi.model('msrr', { major: 1, minor: 0, patch: 0 }))
    .unwrap().spec.artifactHash.toHex();
  const served = () => servedModels(bob);
  await waitFor(async () => new RegExp(`msrr 1\\.1\\.0 from peer ${ALICE_PEER_ID} refused: artifact hash mismatch`).test(bob.log()),
    { timeoutMs: 60_000, what: "Bob refusing Alice's damaged bytes" });
  assert.ok(!(await served()).includes(v11Hash));
  assert.ok((await served()).includes(v1Hash));
  const answer = await httpRpc(bob.mlUrl, 'ml_msrr', { model: v1Hash, bars: lastBars(168) });
  assert.ok(answer.result, JSON.stringify(answer));

  // Alice gets a good copy; Bob's next attempt verifies and serves it.
  writeFileSync(storePath(dirs[0], v11), v11);
  await waitFor(async () => (await served()).includes(v11Hash), { timeoutMs: 90_000, what: 'Bob serving msrr 1.1.0' });
  await waitForLog(bob, new RegExp(`msrr 1\\.1\\.0 fetched from peer ${ALICE_PEER_ID} and verified`));
  assert.ok((await served()).includes(v1Hash), 'both versions served');
});

test('a node killed (SIGKILL) in the middle of a peer download resumes it after restart and leaves no partial file', async () => {
  const dir = tempDir('noderr-e2e-dave-');
  dirs.push(dir);
  const partialDir = path.join(dir, 'models', 'partial');
  // Alice is Dave's only peer, so the source that resumes is the one that was sending.
  const alicePeer = `/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`;
  const peers = [`--bootnodes=${alicePeer}`, `--reserved-nodes=${alicePeer}`, '--reserved-only'];
  // Dave (no operator: he wants every tier's models) is killed the moment he logs that a
  // tenth of the 87 MiB sentiment artifact has arrived.
  const progress = new RegExp(`sentiment 1\\.0\\.0 from peer (\\S+): ([\\d.]+) of ${SENTIMENT_MIB} MiB \\(([1-9]\\d)%\\)`);
  let killedAt = null;
  const first = await startNode({
    chain: 'local',
    basePath: dir,
    validatorFlag: null,
    validator: false,
    mlModels: null,
    extraArgs: peers,
    onLog: (log, child) => {
      const m = killedAt === null && log.match(progress);
      if (m) {
        killedAt = { peer: m[1], mib: Number(m[2]) };
        child.kill('SIGKILL');
      }
    },
  });
  let timer;
  const { signal } = await Promise.race([
    first.exited,
    new Promise((resolve) => { timer = setTimeout(() => resolve({ signal: 'still running' }), 180_000); }),
  ]);
  clearTimeout(timer);
  if (signal === 'still running') await first.stop('SIGKILL');
  assert.equal(signal, 'SIGKILL', `Dave was not killed during the download:\n${first.log().slice(-4000)}`);
  assert.ok(!/sentiment 1\.0\.0 fetched from peer/.test(first.log()), 'killed before the download ended');

  // What the kill left: the sentiment partial file of the peer that was sending, no verified copy.
  const sentimentHash = (await apiBob.call.modelRegistryApi.model('sentiment', { major: 1, minor: 0, patch: 0 }))
    .unwrap().spec.artifactHash.toHex().slice(2);
  const partials = readdirSync(partialDir).filter((f) => f.startsWith(sentimentHash));
  assert.equal(partials.length, 1, `one partial file: ${partials}`);
  const kept = statSync(path.join(partialDir, partials[0])).size;
  assert.ok(kept >= (killedAt.mib - 0.1) * (1 << 20) && kept < SENTIMENT_BYTES, `partial of ${kept} bytes`);
  assert.ok(!existsSync(path.join(dir, 'models', 'blake2-256', `${sentimentHash}.nrm`)));

  // Restarted on the same base path: it resumes where the partial file ends, not from zero.
  const dave = await startNode({
    chain: 'local', basePath: dir, validatorFlag: null, validator: false, mlModels: null, extraArgs: peers,
  });
  try {
    await waitFor(() => /sentiment 1\.0\.0 fetched from peer \S+ and verified/.test(dave.log()),
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'Dave completing the sentiment download after the restart' });
    const resumed = dave.log().match(
      new RegExp(`sentiment 1\\.0\\.0 from peer (\\S+): resuming at ([\\d.]+) of ${SENTIMENT_MIB} MiB`),
    );
    assert.ok(resumed, dave.log().split('\n').filter((l) => l.includes('📦')).join('\n'));
    assert.equal(resumed[1], killedAt.peer, 'the same source resumes its own partial file');
    assert.ok(Math.abs(Number(resumed[2]) * (1 << 20) - kept) < 0.1 * (1 << 20), `resumed at ${resumed[2]} MiB, kept ${kept} B`);
    await waitFor(async () => (await servedModels(dave)).length === 5,
      { timeoutMs: 60_000, what: 'Dave serving every model (msrr in two versions)' });
    assert.deepEqual(readdirSync(partialDir), [], 'no partial file left');
    assert.ok(existsSync(path.join(dir, 'models', 'blake2-256', `${sentimentHash}.nrm`)));
    // It also follows the chain again.
    const bobBest = (await apiBob.rpc.chain.getHeader()).number.toNumber();
    const apiDave = await connect(dave);
    try {
      await waitFor(async () => (await apiDave.rpc.chain.getHeader()).number.toNumber() >= bobBest,
        { timeoutMs: 60_000, what: 'Dave importing the chain after the restart' });
    } finally {
      await apiDave.disconnect();
    }
  } finally {
    await dave.stop();
  }
});
