// The installer and the systemd unit, as an operator uses them: scripts/install.sh into a clean
// directory tree; the installed node runs with no environment at all (its libtorch libraries
// beside it, found through its run path); `systemd-analyze verify` accepts the unit; and the
// node, started as the non-root service user from the installed tree, produces blocks.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  connect, removeDir, repoRoot, startNode, tempDir, waitFor,
} from './lib.mjs';

// A user of its own, removed afterwards (the installer's default is `noderr`).
const USER = `noderr-e2e-${process.pid}`;
let dir;
let tree;
const prefix = '/opt/noderr';

before(() => {
  dir = tempDir('noderr-e2e-install-');
  chmodSync(dir, 0o755); // the service user must reach the tree
  tree = path.join(dir, 'root');
  const out = spawnSync(path.join(repoRoot, 'scripts', 'install.sh'), ['--root', tree, '--user', USER], {
    encoding: 'utf8', env: process.env,
  });
  assert.equal(out.status, 0, `${out.stdout}\n${out.stderr}`);
});

after(() => {
  removeDir(dir);
  if (spawnSync('id', [USER]).status === 0) spawnSync('userdel', [USER]);
});

test('the installer lays out a self-contained node, its libraries, the unit and its arguments', () => {
  const bin = path.join(tree, prefix, 'bin', 'noderr-node');
  assert.ok(existsSync(bin));
  const libs = readdirSync(path.join(tree, prefix, 'lib'));
  assert.ok(libs.some((l) => l.startsWith('libtorch_cpu')), libs.join(' '));
  // No LD_LIBRARY_PATH, no PATH: the run path finds the libraries beside it.
  const version = spawnSync(bin, ['--version'], { env: {}, encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /noderr-node \d+\.\d+\.\d+/);
  const ldd = execFileSync('ldd', [bin], { encoding: 'utf8', env: {} });
  const resolved = ldd.split('\n').filter((l) => /libtorch|libc10/.test(l));
  assert.ok(resolved.length >= 2, ldd);
  for (const line of resolved) {
    const file = line.match(/=> (\S+)/)?.[1] ?? '';
    assert.ok(path.resolve(file).startsWith(path.join(tree, prefix, 'lib')), line);
  }
  const unit = readFileSync(path.join(tree, 'etc', 'systemd', 'system', 'noderr-node.service'), 'utf8');
  for (const directive of [`User=${USER}`, 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'StateDirectory=noderr',
    'ProtectHome=yes', 'PrivateTmp=yes', `ExecStart=${prefix}/bin/noderr-node --base-path /var/lib/noderr $NODERR_ARGS`]) {
    assert.ok(unit.includes(directive), directive);
  }
  assert.match(readFileSync(path.join(tree, 'etc', 'noderr', 'noderr-node.env'), 'utf8'), /^NODERR_ARGS=/m);
  // A second run changes nothing: not a byte, not a time stamp, and the operator's arguments
  // stay as edited.
  writeFileSync(path.join(tree, 'etc', 'noderr', 'noderr-node.env'), 'NODERR_ARGS=--chain local --name mine\n');
  const before = snapshot(tree);
  const again = spawnSync(path.join(repoRoot, 'scripts', 'install.sh'), ['--root', tree, '--user', USER], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /nothing changed: this build is installed already/);
  assert.deepEqual(snapshot(tree), before);
  assert.match(readFileSync(path.join(tree, 'etc', 'noderr', 'noderr-node.env'), 'utf8'), /--name mine/);

  // A library an earlier install listed and this build no longer links is removed; a file the
  // installer never put there is left alone.
  const libDir = path.join(tree, prefix, 'lib');
  const list = path.join(tree, prefix, 'share', 'noderr', 'libraries');
  writeFileSync(list, `${readFileSync(list, 'utf8')}libstale.so.1\n`);
  writeFileSync(path.join(libDir, 'libstale.so.1'), 'old');
  writeFileSync(path.join(libDir, 'operator-file.so'), 'mine');
  const third = spawnSync(path.join(repoRoot, 'scripts', 'install.sh'), ['--root', tree, '--user', USER], { encoding: 'utf8' });
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, /2 files installed or replaced/);
  assert.ok(!existsSync(path.join(libDir, 'libstale.so.1')), 'the stale library is removed');
  assert.equal(readFileSync(path.join(libDir, 'operator-file.so'), 'utf8'), 'mine');
  assert.doesNotMatch(readFileSync(list, 'utf8'), /libstale/);
});

/** Every file under `dir`: its path, size, mode and modification time. */
function snapshot(dir) {
  const files = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        files[path.relative(dir, p)] = [s.size, s.mode, s.mtimeMs];
      }
    }
  };
  walk(dir);
  return files;
}

test('without root a system install stops before touching anything and says what it needs', {
  skip: process.getuid() !== 0 && 'dropping to another user needs root (CI runs as root)',
}, () => {
  // The script's own text, run as nobody: the check comes before it reads any other file.
  // Everything it could create is writable by nobody, so only the check can keep it away.
  const open = path.join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const script = readFileSync(path.join(repoRoot, 'scripts', 'install.sh'), 'utf8');
  const out = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--',
    'bash', '-c', script, 'install.sh', '--prefix', path.join(open, 'opt'), '--config', path.join(open, 'etc')], {
    encoding: 'utf8', cwd: '/', env: { ...process.env, HOME: open, NODERR_CACHE: path.join(open, 'cache') },
  });
  assert.equal(out.status, 1, `${out.stdout}${out.stderr}`);
  assert.match(out.stderr, /installing into the system needs root/);
  assert.match(out.stderr, /sudo scripts\/install\.sh.*--root DIR/s);
  assert.deepEqual(readdirSync(open), [], 'nothing was created');
});

test('systemd-analyze verify accepts the unit', {
  skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'systemd-analyze is not installed',
}, () => {
  // The unit as installed, its paths pointed into the tree so that systemd can check them here.
  const unit = readFileSync(path.join(tree, 'etc', 'systemd', 'system', 'noderr-node.service'), 'utf8')
    .replaceAll(`${prefix}/`, `${path.join(tree, prefix)}/`)
    .replaceAll('/etc/noderr/', `${path.join(tree, 'etc', 'noderr')}/`);
  const checkDir = path.join(dir, 'verify');
  mkdirSync(checkDir);
  const file = path.join(checkDir, 'noderr-node.service');
  writeFileSync(file, unit);
  const out = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
  assert.equal(out.status, 0, `${out.stdout}${out.stderr}`);
  assert.equal(out.stderr.trim(), '', 'no warning');
});

const asRoot = process.getuid() === 0;

test('the installed node runs as the non-root service user and produces blocks', {
  skip: !asRoot && 'creating the service user needs root (CI runs as root)',
}, async () => {
  if (spawnSync('id', [USER]).status !== 0) {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  const state = path.join(dir, 'state');
  mkdirSync(state);
  execFileSync('chown', [`${USER}:${USER}`, state]);
  chmodSync(state, 0o700);
  // setpriv drops to the service user and executes the node in its place (same process).
  const uid = execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim();
  assert.notEqual(uid, '0');
  const node = await startNode({
    basePath: state,
    mlModels: null,
    binary: 'setpriv',
    prefixArgs: ['--reuid', USER, '--regid', USER, '--init-groups', '--', path.join(tree, prefix, 'bin', 'noderr-node')],
  });
  try {
    const api = await connect(node);
    try {
      await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 2,
        { timeoutMs: 60_000, what: 'blocks from the installed node' });
      const status = readFileSync(`/proc/${node.child.pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s`, 'm'), status);
      assert.match(readFileSync(`/proc/${node.child.pid}/cmdline`, 'utf8'), /opt\/noderr\/bin\/noderr-node/);
    } finally {
      await api.disconnect();
    }
  } finally {
    await node.stop();
  }
});
