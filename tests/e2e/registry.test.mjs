// The model registry from polkadot.js: governance registers the default price model's
// artifact (its real hash and size), deprecates and retires it; bad registrations and
// non-governance origins are refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex } from '@polkadot/util-crypto';
import { artifactsDir, connect, removeDir, startNode, submit as submitTo, tempDir } from './lib.mjs';

let node;
let api;
let basePath;
let alice;
let bob;
const submit = async (tx, signer) => (await submitTo(api, tx, signer)).events;

before(async () => {
  basePath = tempDir('noderr-e2e-registry-');
  node = await startNode({ basePath });
  api = await connect(node);
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

const V1 = { major: 1, minor: 0, patch: 0 };

async function registration(overrides = {}) {
  const bytes = readFileSync(path.join(artifactsDir, 'price-transformer.nrm'));
  const now = (await api.rpc.chain.getHeader()).number.toNumber();
  return {
    kind: { Regression: { outputs: 3 } },
    minTier: 'All',
    input: { Features: { pipelineVersion: 1, window: 60, featureCount: 94 } },
    output: { scale: 1_000_000, tolerance: 500 },
    artifactHash: blake2AsHex(bytes, 256),
    artifactSize: bytes.length,
    locations: ['https://models.noderr.example/price-transformer.nrm'],
    activateAt: now + 5,
    ...overrides,
  };
}

// The inner call's outcome, from sudo's Sudid event: 'ok' or the pallet error's name.
async function sudoOutcome(call) {
  try {
    await submit(api.tx.sudo.sudo(call), alice);
    return 'ok';
  } catch (e) {
    const m = /^sudo call failed: (.*)$/.exec(e.message);
    if (!m) throw e;
    return m[1];
  }
}

test('governance registers, deprecates and retires a model version', async () => {
  const reg = await registration();
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V1, reg)), 'ok');
  const stored = (await api.query.modelRegistry.versions('price-transformer', V1)).unwrap();
  assert.equal(stored.artifactHash.toHex(), reg.artifactHash);
  assert.equal(stored.artifactSize.toNumber(), reg.artifactSize);
  assert.equal(stored.status.toString(), 'Live');
  const byHash = (await api.query.modelRegistry.byHash(reg.artifactHash)).unwrap();
  assert.equal(byHash[0].toUtf8(), 'price-transformer');

  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V1, await registration())), 'modelRegistry.DuplicateVersion');
  const V2 = { major: 1, minor: 1, patch: 0 };
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V2, await registration())), 'modelRegistry.DuplicateArtifact');
  const fresh = { artifactHash: `0x${'11'.repeat(32)}` };
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V2, await registration({ ...fresh, activateAt: 1 }))), 'modelRegistry.ActivationInPast');
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V2, await registration({ ...fresh, output: { scale: 999, tolerance: 0 } }))), 'modelRegistry.ScaleOutOfRange');
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V2, await registration({ ...fresh, output: { scale: 1000, tolerance: 1001 } }))), 'modelRegistry.ToleranceOutOfRange');
  const nine = Array.from({ length: 9 }, (_, i) => `https://m${i}.example/a.nrm`);
  assert.equal(await sudoOutcome(api.tx.modelRegistry.register('price-transformer', V2, await registration({ ...fresh, locations: nine }))), 'modelRegistry.TooManyLocations');

  await assert.rejects(
    submit(api.tx.modelRegistry.register('price-transformer', V2, await registration(fresh)), bob),
    /BadOrigin/,
  );

  assert.equal(await sudoOutcome(api.tx.modelRegistry.deprecate('price-transformer', V1)), 'ok');
  const deprecated = (await api.query.modelRegistry.versions('price-transformer', V1)).unwrap();
  assert.ok(deprecated.status.isDeprecated);
  assert.equal(await sudoOutcome(api.tx.modelRegistry.retire('price-transformer', V1)), 'ok');
  assert.ok((await api.query.modelRegistry.versions('price-transformer', V1)).isNone);
  assert.equal(await sudoOutcome(api.tx.modelRegistry.retire('price-transformer', V1)), 'modelRegistry.UnknownModel');
});
