// The model registry from polkadot.js and the node's model store behind it: the dev genesis
// registers the default models (read through the runtime API); governance registers a new
// version with the call `noderr-ml registration` prints; bad registrations and
// non-governance origins are refused; an HTTP location that serves a larger, a corrupt and a
// truncated artifact is refused each time while the node keeps serving the previous version,
// and the download resumes and is served once the bytes are right; retiring a version stops
// serving it; after a restart the node serves from its store without fetching.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex } from '@polkadot/util-crypto';
import {
  connect, httpRpc, lastBars, registrationCall, removeDir, runToExit, servedModels, startNode,
  submit as submitTo, tempDir, trainMsrrV11, waitFor, waitForLog,
} from './lib.mjs';

let node;
let api;
let basePath;
let alice;
let bob;
let server;
const requests = [];
const submit = async (tx, signer) => (await submitTo(api, tx, signer)).events;

// A second version of the MSRR model, trained here (a fraction of a second).
let v11Path;
let v11;

before(async () => {
  basePath = tempDir('noderr-e2e-registry-');
  v11Path = path.join(basePath, 'msrr-1.1.0.nrm');
  v11 = await trainMsrrV11(v11Path);

  // The publisher's HTTP server: too long, then corrupt, then cut short, then the rest.
  server = http.createServer((req, res) => {
    const n = requests.push(req.headers.range ?? null);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-length': body.length, ...headers });
      res.end(body);
    };
    if (n === 1) return send(200, Buffer.concat([v11, Buffer.from('trailing junk')]));
    if (n === 2) {
      const corrupt = Buffer.from(v11);
      corrupt[corrupt.length - 10] ^= 0xff;
      return send(200, corrupt);
    }
    if (n === 3) return send(200, v11.subarray(0, 700));
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    return from > 0 ? send(206, v11.subarray(from), { 'content-range': `bytes ${from}-${v11.length - 1}/${v11.length}` })
      : send(200, v11);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  node = await startNode({ basePath });
  api = await connect(node);
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
});

after(async () => {
  if (process.env.DUMP_LOG) console.log(node?.log().split('\n').filter((l) => /📦|🧠|📋/.test(l)).join('\n'));
  await api?.disconnect();
  await node?.stop();
  server?.close();
  removeDir(basePath);
});

const V1 = { major: 1, minor: 0, patch: 0 };
const V11 = { major: 1, minor: 1, patch: 0 };

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

// The registration the publisher tool prints for the 1.1.0 artifact, as a polkadot.js call.
async function publisherCall(extraArgs) {
  const printed = await registrationCall(api, v11Path, extraArgs);
  assert.match(printed.stdout, new RegExp(`hash  ${blake2AsHex(v11, 256)}`));
  assert.match(printed.stdout, new RegExp(`size  ${v11.length} bytes`));
  return printed;
}

const servedHashes = () => servedModels(node);

test('the dev genesis registers the default models; the runtime API answers per tier', async () => {
  const names = async (tier) => (await api.call.modelRegistryApi.activeModels(tier)).map((m) => m.name.toUtf8());
  assert.deepEqual(await names('All'), ['price-transformer']);
  assert.deepEqual(await names('Oracle'), ['gaf-regime', 'msrr', 'price-transformer', 'sentiment']);
  const msrr = (await api.call.modelRegistryApi.model('msrr', V1)).unwrap();
  assert.equal(msrr.spec.minTier.toString(), 'Oracle');
  assert.deepEqual(msrr.spec.input.toJSON(), { bars: { window: 168 } });
  assert.ok((await api.call.modelRegistryApi.model('msrr', V11)).isNone);
  // The node imported and serves all four.
  await waitFor(async () => (await servedHashes()).length === 4, { what: 'the four default models served' });
});

test('bad registrations and non-governance origins are refused with specific errors', async () => {
  const now = (await api.rpc.chain.getHeader()).number.toNumber();
  const { tx: good } = await publisherCall(['--activate-at', String(now + 1000)]);
  // sudo(register(name, version, registration))
  const reg = good.method.args[0].args[2].toJSON();
  const register = (name, version, overrides, spec = {}) =>
    api.tx.modelRegistry.register(name, version, { ...reg, ...overrides, spec: { ...reg.spec, ...spec } });

  assert.equal(await sudoOutcome(register('msrr', V1, {})), 'modelRegistry.DuplicateVersion');
  const defaultHash = (await api.call.modelRegistryApi.model('msrr', V1)).unwrap().spec.artifactHash.toHex();
  assert.equal(await sudoOutcome(register('msrr', V11, {}, { artifactHash: defaultHash })), 'modelRegistry.DuplicateArtifact');
  assert.equal(await sudoOutcome(register('msrr', V11, { activateAt: 1 })), 'modelRegistry.ActivationInPast');
  assert.equal(await sudoOutcome(register('msrr', V11, {}, { output: { scale: 999, tolerance: 0 } })), 'modelRegistry.ScaleOutOfRange');
  assert.equal(await sudoOutcome(register('msrr', V11, {}, { output: { scale: 1000, tolerance: 1001 } })), 'modelRegistry.ToleranceOutOfRange');
  const nine = Array.from({ length: 9 }, (_, i) => `https://m${i}.example/a.nrm`);
  assert.equal(await sudoOutcome(register('msrr', V11, { locations: nine })), 'modelRegistry.TooManyLocations');
  assert.equal(await sudoOutcome(register('msrr', V11, { locations: ['ftp://m.example/a.nrm'] })), 'modelRegistry.LocationNotHttp');
  assert.equal(await sudoOutcome(register('msrr', V11, {}, { artifactSize: 0 })), 'modelRegistry.EmptyArtifact');
  assert.equal(await sudoOutcome(register('', V11, {})), 'modelRegistry.EmptyName');
  assert.equal(await sudoOutcome(api.tx.modelRegistry.deprecate('no-such-model', V1)), 'modelRegistry.UnknownModel');
  assert.equal(await sudoOutcome(api.tx.modelRegistry.deprecate('msrr', V11)), 'modelRegistry.UnknownVersion');
  await assert.rejects(submit(register('msrr', V11, {}), bob), /BadOrigin/);
  // Nothing changed.
  assert.ok((await api.query.modelRegistry.versions('msrr', V11)).isNone);
  assert.equal((await api.query.modelRegistry.liveVersions('msrr')).toNumber(), 1);
});

test('corrupt downloads are refused while the previous version keeps serving; the good one is then served', async () => {
  const v1Hash = (await api.call.modelRegistryApi.model('msrr', V1)).unwrap().spec.artifactHash.toHex();
  const v11Hash = blake2AsHex(v11, 256);
  const url = `http://127.0.0.1:${server.address().port}/msrr-1.1.0.nrm`;
  const now = (await api.rpc.chain.getHeader()).number.toNumber();
  const { text, tx } = await publisherCall(['--location', url, '--activate-at', String(now + 2)]);
  assert.match(text, /^api\.tx\.sudo\.sudo\(api\.tx\.modelRegistry\.register\("msrr", /);
  await submit(tx, alice);
  const stored = (await api.query.modelRegistry.versions('msrr', V11)).unwrap();
  assert.equal(stored.spec.artifactHash.toHex(), v11Hash);
  assert.equal(stored.spec.artifactSize.toNumber(), v11.length);

  const log = () => node.log();
  await waitFor(async () => /msrr 1\.1\.0: refused or failed download: .*larger than the 1\d{3} bytes the registry declares/.test(log()),
    { timeoutMs: 60_000, what: 'the oversized download refused' });
  // Meanwhile the previous version answers.
  assert.ok((await servedHashes()).includes(v1Hash));
  assert.ok(!(await servedHashes()).includes(v11Hash));
  const answer = await httpRpc(node.mlUrl, 'ml_msrr', { model: v1Hash, bars: lastBars(168) });
  assert.ok(answer.result, JSON.stringify(answer));

  await waitFor(async () => /msrr 1\.1\.0: refused or failed download: .*hash mismatch: the registry declares 0x[0-9a-f]{64}, the bytes hash to 0x[0-9a-f]{64}/.test(log()),
    { timeoutMs: 60_000, what: 'the corrupt download refused' });
  await waitFor(async () => /msrr 1\.1\.0: refused or failed download: .*truncated: 700 of the 1\d{3} declared bytes/.test(log()),
    { timeoutMs: 60_000, what: 'the truncated download refused' });
  assert.ok(!(await servedHashes()).includes(v11Hash));
  assert.ok((await servedHashes()).includes(v1Hash));

  await waitFor(async () => (await servedHashes()).includes(v11Hash), { timeoutMs: 60_000, what: 'msrr 1.1.0 served' });
  await waitForLog(node, new RegExp(`msrr 1\\.1\\.0 fetched from ${url.replace(/\./g, '\\.')} and verified`));
  // The fourth request resumed the truncated download from its 700 bytes.
  assert.deepEqual(requests.slice(0, 4), [null, null, null, 'bytes=700-']);
  assert.ok((await servedHashes()).includes(v1Hash), 'both versions served');
  const v11Answer = await httpRpc(node.mlUrl, 'ml_msrr', { model: v11Hash, bars: lastBars(168) });
  assert.ok(v11Answer.result, JSON.stringify(v11Answer));

  // Deprecated: still served. Retired: no longer served.
  assert.equal(await sudoOutcome(api.tx.modelRegistry.deprecate('msrr', V1)), 'ok');
  assert.equal(await sudoOutcome(api.tx.modelRegistry.deprecate('msrr', V1)), 'modelRegistry.AlreadyDeprecated');
  assert.ok((await servedHashes()).includes(v1Hash));
  assert.equal(await sudoOutcome(api.tx.modelRegistry.retire('msrr', V1)), 'ok');
  await waitFor(async () => !(await servedHashes()).includes(v1Hash), { what: 'msrr 1.0.0 unloaded' });
  assert.ok((await servedHashes()).includes(v11Hash));
  assert.ok((await api.call.modelRegistryApi.model('msrr', V1)).isNone);

  // The retired artifact's file is removed from the store; the operator's view shows no
  // leftover.
  await waitForLog(node, /removed 1 retired or abandoned file\(s\) from the model store/);
  const out = await runToExit(['models', `--rpc-url=http://127.0.0.1:${node.rpcPort}`]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^msrr\s+1\.1\.0\s+Oracle\s+live\s+yes\s+present\s+yes\s+0x/m);
  assert.doesNotMatch(out.stdout, /not in the registry/);

  // A restart without the import directory serves from the store: nothing fetched again.
  await api.disconnect();
  await node.stop();
  node = await startNode({ basePath, mlModels: null });
  api = await connect(node);
  await waitFor(async () => (await servedHashes()).length === 4, { what: 'the store served after a restart' });
  assert.ok((await servedHashes()).includes(v11Hash));
  assert.doesNotMatch(node.log(), /fetched from|imported from/);
});
