// Faults injected into a running node, as crashes and careless operators cause them: SIGKILL
// while the model store imports artifacts, then a truncated stored file, an abandoned partial
// download, an interrupted copy and an unreadable entry left in the store; the restarted node
// authors and finalizes, serves every model again and leaves no orphan file. Then the session
// period written as 0 through sudo: block production goes on.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { xxhashAsHex } from '@polkadot/util-crypto';
import { connect, removeDir, servedModels, startNode, submit, tempDir, waitFor, waitForLog } from './lib.mjs';

let basePath;
let node;
let api;

before(() => {
  basePath = tempDir('noderr-e2e-faults-');
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

const store = () => path.join(basePath, 'models');
const files = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

test('SIGKILL during imports, then a damaged store: the node restarts, serves and cleans up', async () => {
  node = await startNode({ basePath });
  // Killed as soon as the first artifact is imported, with the others still being copied.
  await waitForLog(node, /imported from .* and verified/, { timeoutMs: 120_000 });
  node.child.kill('SIGKILL');
  const { signal } = await node.exited;
  assert.equal(signal, 'SIGKILL');

  // What a crash and a careless operator leave behind.
  const verified = path.join(store(), 'blake2-256');
  const held = files(verified).filter((f) => f.endsWith('.nrm'));
  assert.ok(held.length >= 1, `something was imported before the kill: ${held}`);
  const victim = path.join(verified, held[0]);
  fs.truncateSync(victim, Math.floor(fs.statSync(victim).size / 2)); // a torn file
  const partial = path.join(store(), 'partial');
  fs.mkdirSync(partial, { recursive: true });
  fs.writeFileSync(path.join(partial, `${'ab'.repeat(32)}.part`), 'abandoned download');
  fs.writeFileSync(path.join(partial, `${'cd'.repeat(32)}.import`), 'interrupted copy');
  const unreadable = path.join(verified, `${'ef'.repeat(32)}.nrm`);
  fs.mkdirSync(unreadable);

  node = await startNode({ basePath });
  api = await connect(node);
  await waitForLog(node, /model store opened in \d+ ms: .* 1 dropped, 1 unreadable/, { timeoutMs: 30_000 });
  await waitFor(async () => (await servedModels(node)).length === 4, { timeoutMs: 180_000, what: 'four models served again' });
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  await waitFor(async () => {
    const finalized = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
    return finalized.number.toNumber() > best;
  }, { timeoutMs: 60_000, what: `a block after #${best} finalized` });

  // No orphans: no partial or interrupted copy; four artifacts with their records; the
  // unreadable entry reported, left for the operator.
  assert.deepEqual(files(partial), []);
  const left = files(verified);
  assert.equal(left.filter((f) => f.endsWith('.nrm') && f !== path.basename(unreadable)).length, 4, left.join(' '));
  assert.equal(left.filter((f) => f.endsWith('.ok')).length, 4, left.join(' '));
  assert.match(node.log(), /cannot read .*efefef.*skipped/);
});

test('the session period written as 0 through sudo does not stop block production', async () => {
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const key = xxhashAsHex(':SessionPeriod:', 128);
  await submit(api, api.tx.sudo.sudo(api.tx.system.setStorage([[key, '0x00000000']])), alice);
  const at = (await api.rpc.chain.getHeader()).number.toNumber();
  await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= at + 3,
    { timeoutMs: 60_000, what: 'three more blocks after the write' });
  const finalized = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
  assert.ok(finalized.number.toNumber() >= at, 'finality goes on');
});
