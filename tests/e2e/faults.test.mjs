// Bad input and crashes, as an operator meets them: one clear error line and a non-zero exit,
// and no finalized block lost when the process is killed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { connect, freePort, removeDir, runToExit, startNode, tempDir, waitFor } from './lib.mjs';

function assertCleanError(result, pattern) {
  assert.notEqual(result.code, 0, 'non-zero exit');
  assert.equal(result.signal, null, 'exited, not killed');
  const out = result.stderr + result.stdout;
  assert.match(out, pattern);
  assert.doesNotMatch(out, /panicked|stack backtrace|RUST_BACKTRACE/, 'no panic output');
}

test('unknown chain name: names the built-in chains', async () => {
  const dir = tempDir('noderr-e2e-bad-');
  try {
    const result = await runToExit(['--chain=moonbase', `--base-path=${dir}`]);
    assertCleanError(result, /unknown chain 'moonbase': use one of dev, local, launch:FILE or the path/);
  } finally {
    removeDir(dir);
  }
});

test('corrupt chain-spec file: says which file and how to fix it', async () => {
  const dir = tempDir('noderr-e2e-bad-');
  try {
    const spec = path.join(dir, 'broken.json');
    writeFileSync(spec, '{"name": "truncated", "id": ');
    const result = await runToExit([`--chain=${spec}`, `--base-path=${dir}`]);
    assertCleanError(result, /cannot read chain spec '.*broken\.json'.*export-chain-spec/s);
  } finally {
    removeDir(dir);
  }
});

test('RPC port already in use: a clear error naming the port', async () => {
  const port = await freePort();
  const blocker = net.createServer().listen(port, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const dir = tempDir('noderr-e2e-bad-');
  try {
    const result = await runToExit(['--dev', `--base-path=${dir}`, `--rpc-port=${port}`,
      `--port=${await freePort()}`, '--no-prometheus']);
    assertCleanError(result, new RegExp(`JSON-RPC port ${port} .*already in use.*--rpc-port`));
  } finally {
    blocker.close();
    removeDir(dir);
  }
});

test('SIGKILL mid-run: restart on the same base path keeps finalized blocks and resumes', async () => {
  const basePath = tempDir('noderr-e2e-kill-');
  try {
    let node = await startNode({ basePath });
    let api = await connect(node);
    const finalized = await waitFor(async () => {
      const hash = await api.rpc.chain.getFinalizedHead();
      const n = (await api.rpc.chain.getHeader(hash)).number.toNumber();
      return n >= 3 ? { n, hash: hash.toHex() } : null;
    }, { timeoutMs: 90_000, what: 'finalized block #3' });
    await api.disconnect();
    const killed = await node.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');

    node = await startNode({ basePath });
    api = await connect(node);
    try {
      const hashAfter = (await api.rpc.chain.getBlockHash(finalized.n)).toHex();
      assert.equal(hashAfter, finalized.hash, `block #${finalized.n} kept after SIGKILL`);
      const finalizedAfter = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
      assert.ok(finalizedAfter >= finalized.n, `finalized head ${finalizedAfter} >= ${finalized.n}`);
      const best = (await api.rpc.chain.getHeader()).number.toNumber();
      await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() > best,
        { timeoutMs: 30_000, what: 'a new block after restart' });
      await waitFor(async () => {
        const f = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
        return f > finalized.n;
      }, { timeoutMs: 60_000, what: 'finality to advance after restart' });
    } finally {
      await api.disconnect();
      await node.stop();
    }
  } finally {
    removeDir(basePath);
  }
});
