// The local testnet's setup when zombie-cli is missing and cannot be built: one clear error that
// names the fix, not cargo's output alone. A cache without zombie-cli and a cargo that fails as it
// does without crates.io.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { removeDir, repoRoot, tempDir } from './lib.mjs';

test('zombie-cli missing and unbuildable: the setup names the fix and stops', () => {
  const dir = tempDir('noderr-e2e-zombie-setup-');
  try {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const cargo = path.join(bin, 'cargo');
    writeFileSync(cargo, '#!/bin/sh\necho "error: failed to download from `https://index.crates.io/config.json`" >&2\nexit 101\n');
    chmodSync(cargo, 0o755);
    const env = { ...process.env, NODERR_CACHE: path.join(dir, 'cache'), PATH: `${bin}:${process.env.PATH}` };
    const out = spawnSync(path.join(repoRoot, 'scripts', 'setup-zombienet.sh'), [], { encoding: 'utf8', env });
    assert.equal(out.status, 1, `${out.stdout}${out.stderr}`);
    assert.equal(out.stdout, '', 'no binary path printed');
    assert.match(out.stderr, /failed to download/, "cargo's own reason is shown");
    assert.match(out.stderr, /zombie-cli 0\.7\.1 is missing and could not be built/);
    assert.match(out.stderr, /cargo install --locked zombie-cli --version 0\.7\.1 --root \S+zombie-cli/);
  } finally {
    removeDir(dir);
  }
});
