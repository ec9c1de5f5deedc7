// The standard Substrate subcommands operators use on a stopped node's database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  connect, freePort, removeDir, repoRoot, runToExit, startNode, tempDir, waitFor,
} from './lib.mjs';

let basePath;
let exported;

before(async () => {
  basePath = tempDir('noderr-e2e-sub-');
  exported = path.join(basePath, 'blocks.bin');
  const node = await startNode({ basePath });
  const api = await connect(node);
  await waitFor(async () => {
    const f = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
    return f.number.toNumber() >= 3;
  }, { timeoutMs: 90_000, what: 'finalized block #3' });
  await api.disconnect();
  await node.stop();
});

after(() => removeDir(basePath));

const db = () => [`--base-path=${basePath}`, '--dev'];

test('export-blocks writes the chain, import-blocks reads it into a fresh database', async () => {
  const out = await runToExit(['export-blocks', ...db(), '--from=1', '--to=3', '--binary', exported]);
  assert.equal(out.code, 0, out.stderr);
  assert.ok(statSync(exported).size > 0, 'exported file is not empty');
  const fresh = tempDir('noderr-e2e-import-');
  try {
    const imp = await runToExit(['import-blocks', `--base-path=${fresh}`, '--dev', '--binary', exported]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr + imp.stdout, /Imported 3 blocks|#3/);
  } finally {
    removeDir(fresh);
  }
});

test('check-block validates a stored block', async () => {
  const out = await runToExit(['check-block', ...db(), '1']);
  assert.equal(out.code, 0, out.stderr);
});

test('revert and purge-chain', async () => {
  const revert = await runToExit(['revert', ...db(), '1']);
  assert.equal(revert.code, 0, revert.stderr);
  const info = await runToExit(['chain-info', ...db()]);
  assert.equal(info.code, 0, info.stderr);
  const purge = await runToExit(['purge-chain', ...db(), '-y']);
  assert.equal(purge.code, 0, purge.stderr);
  assert.ok(!existsSync(path.join(basePath, 'chains', 'noderr_dev', 'paritydb')), 'database removed');
});

test('scripts/try-upgrade.mjs: a missing or malformed argument and an unreachable node each get one clear error', async () => {
  const script = path.join(repoRoot, 'scripts', 'try-upgrade.mjs');
  const run = (...args) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });
  let r = run();
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: --rpc is required\nusage: /);
  r = run('--rpc', 'http://127.0.0.1:9944', '--at', '0x12');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--at 0x12 is not a block hash/);
  r = run('--rpc', 'http://127.0.0.1:9944', '--bogus', '1');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown or incomplete argument --bogus/);
  // A port nothing listens on.
  r = run('--rpc', `http://127.0.0.1:${await freePort()}`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: cannot reach the node's RPC at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test("a panic sends the operator to the project's real issue tracker", async () => {
  // The zombienet chain names no validators until zombienet writes their keys; started bare, the
  // node stops in GRANDPA's genesis with a panic, whose message is what an operator would see.
  const dir = tempDir('noderr-e2e-panic-');
  try {
    const out = await runToExit(['--chain', 'zombienet', `--base-path=${dir}`, '--no-prometheus',
      `--rpc-port=${await freePort()}`, `--port=${await freePort()}`]);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /This is a bug\. Please report it at:\s+https:\/\/github\.com\/Noderrxyz\/noderr-node-os\/issues/);
    assert.doesNotMatch(out.stderr, /\.invalid/);
  } finally {
    removeDir(dir);
  }
});
