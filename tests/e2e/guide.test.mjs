// OPERATOR_GUIDE.md, followed by a new operator on the `local` network: every command of its
// `sh` blocks is run with bash, in the order written, against real nodes (Alice and Bob validate
// and run their operators' workers; the new operator's node is started with the arguments the
// guide's service section gives). The guide's polkadot.js apps steps (apply, approval by
// governance, bond, link the worker key) are done through polkadot.js with the calls the guide
// names. The new operator then works: its node's worker is assigned tasks and agrees with the
// network, and the guide's status commands show it.
//
// The first block sets the guide's variables; the test sets each of them to its own values
// (its node's ports, `local`, the built binary) and fails on a variable it does not know.
// `sudo`, `systemctl` and `journalctl` appear only in prose: they need systemd, and the
// installer and unit are tested by install.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import {
  connect, nodeBinary, removeDir, repoRoot, startLocalValidators, startNode, submit, tempDir, waitFor,
} from './lib.mjs';
import { SEED_BARS, readBars, replayServer, seedFeed } from './devnet.mjs';

const UNIT = 10n ** 12n;

const guide = readFileSync(path.join(repoRoot, 'OPERATOR_GUIDE.md'), 'utf8');

/** The guide's `sh` blocks, in order, each with the number of the section it is in. */
function blocks() {
  const out = [];
  let section = 0;
  const lines = guide.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const heading = /^## (\d+)\./.exec(lines[i]);
    if (heading) section = Number(heading[1]);
    const open = /^( *)```sh$/.exec(lines[i]);
    if (!open) continue;
    const body = [];
    for (i += 1; lines[i].trim() !== '```'; i += 1) body.push(lines[i].slice(open[1].length));
    out.push({ section, script: body.join('\n') });
  }
  return out;
}

let keyring;
let replay;
const nodes = {};
const dirs = [];
let api;
let operator;
let workerSecret;
let env;

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  replay = await replayServer({ bars: readBars() });
  const source = `--market-source=binance=http://127.0.0.1:${replay.address().port}`;
  dirs.push(tempDir('noderr-e2e-guide-alice-'), tempDir('noderr-e2e-guide-bob-'), tempDir('noderr-e2e-guide-op-'));
  const { boot, ...validators } = await startLocalValidators({ aliceDir: dirs[0], bobDir: dirs[1], extraArgs: [source] });
  Object.assign(nodes, validators);
  api = await connect(nodes.alice);

  // The new operator: an account of its own, funded by Alice.
  operator = keyring.addFromUri(mnemonicGenerate());
  await submit(api, api.tx.balances.transferKeepAlive(operator.address, 2_000n * UNIT), keyring.addFromUri('//Alice'));

  // Its node, with the arguments of the guide's service section (the chain is `local` here,
  // the account is the new operator's; ports, base path and peers are the test's).
  const line = /^ {4}NODERR_ARGS=(.+)$/m.exec(guide);
  assert.ok(line, 'the guide shows the NODERR_ARGS line of the arguments file');
  const args = line[1].replace('<YOUR ACCOUNT>', operator.address).split(' ');
  const chainAt = args.indexOf('--chain');
  assert.ok(chainAt >= 0, 'the arguments name the chain');
  args.splice(chainAt, 2);
  nodes.op = await startNode({
    chain: 'local', basePath: dirs[2], validatorFlag: null, validator: false, extraArgs: [boot, ...args],
  });
  await connect(nodes.op).then((a) => a.disconnect());
  env = {
    ...process.env,
    PATH: `${path.dirname(nodeBinary)}:${process.env.PATH}`,
    NODERR_CHAIN: 'local',
    NODERR_BASE: dirs[2],
    NODERR_RPC: `http://127.0.0.1:${nodes.op.rpcPort}`,
    NODERR_METRICS: `http://127.0.0.1:${nodes.op.promPort}/metrics`,
    NODERR_ML: nodes.op.mlUrl,
  };
  assert.equal(await seedFeed(api, { bars: readBars(), signer: keyring.addFromUri('//Alice') }), SEED_BARS);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  for (const n of Object.values(nodes)) await n.stop();
  replay?.close();
  for (const d of dirs) removeDir(d);
});

/** Runs one of the guide's blocks with bash in the repository; returns its standard output. */
function run(script, extraEnv = {}) {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: repoRoot, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 600_000,
  });
  assert.equal(r.status, 0, `guide command failed (${r.status}):\n${script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

function jsonResult(out) {
  const body = JSON.parse(out);
  assert.ok(!body.error, JSON.stringify(body.error));
  return body.result;
}

/** The guide's section 5, done in polkadot.js as the guide says it is done in apps. */
async function applyBondLink(workerPublic) {
  const section = guide.split(/^## 5\./m)[1].split(/^## 6\./m)[0];
  // The calls the guide names exist with the arguments it lists.
  const named = [
    ['stakingTiers', 'apply', 4], ['stakingTiers', 'approve', 1], ['stakingTiers', 'bond', 1],
    ['inference', 'linkWorker', 1], ['stakingTiers', 'bondExtra', 1], ['stakingTiers', 'unbond', 1],
    ['stakingTiers', 'withdrawUnbonded', 0], ['stakingTiers', 'rebond', 1],
  ];
  for (const [pallet, call, n] of named) {
    assert.ok(section.includes(call), `the guide's section 5 names ${pallet}.${call}`);
    assert.equal(api.tx[pallet][call].meta.args.length, n, `${pallet}.${call} takes ${n} arguments`);
  }
  await submit(api, api.tx.stakingTiers.apply('guide-operator', 'ops@guide.example', 'eu-west', 'Cpu'), operator);
  const sudo = keyring.addFromUri('//Alice');
  await submit(api, api.tx.sudo.sudo(api.tx.stakingTiers.approve(operator.address)), sudo);
  await submit(api, api.tx.stakingTiers.bond(1_000n * UNIT), operator);
  await submit(api, api.tx.inference.linkWorker(workerPublic), operator);
}

test('a new operator follows the guide: install, keys, apply, bond, link, status, dashboards, troubleshooting', { timeout: 900_000 }, async () => {
  const all = blocks();
  assert.ok(all.length >= 10, `the guide has its command blocks (${all.length})`);
  // The settings block: the test knows every variable it sets.
  const settings = all.shift();
  assert.equal(settings.section, 2);
  for (const [, name] of settings.script.matchAll(/^export (\w+)=/gm)) {
    assert.ok(name in env, `the guide sets ${name}, which this test does not provide`);
  }
  workerSecret = mnemonicGenerate();
  const inserted = keyring.addFromUri(workerSecret);
  let generated = null;
  let linked = false;
  for (const { section, script } of all) {
    if (section >= 6 && !linked) {
      await applyBondLink(generated);
      linked = true;
      // The tier takes effect at the epoch boundary; the worker declares itself once linked.
      await waitFor(async () => {
        const s = JSON.parse(run(`noderr-node status --rpc-url "$NODERR_RPC" --json`));
        const me = s.operators.find((o) => o.operator === operator.address);
        return me?.tier === 'All' && me.live;
      }, { timeoutMs: 180_000, intervalMs: 3_000, what: 'the new operator in tier ALL with a live heartbeat' });
    }
    const out = run(script, { WORKER_SECRET: workerSecret });
    // What each command must show.
    if (/worker_generateKey/.test(script)) {
      generated = jsonResult(out).public;
      assert.match(generated, /^0x[0-9a-f]{64}$/);
    } else if (/"worker_keys"/.test(script)) {
      const keys = jsonResult(out).map((k) => k.ss58);
      assert.ok(keys.includes(inserted.address), `the inserted key is listed: ${keys}`);
      assert.ok(keys.includes(keyring.encodeAddress(generated)), `the generated key is listed: ${keys}`);
    } else if (/author_rotateKeys/.test(script)) {
      assert.match(jsonResult(out), /^0x[0-9a-f]{128}$/, 'Aura and GRANDPA public keys');
    } else if (/key generate/.test(script)) {
      assert.match(out, /Secret phrase:/);
    } else if (/noderr-node status/.test(script) && linked) {
      assert.match(out, new RegExp(`worker key ${keyring.encodeAddress(generated)}: linked to operator ${operator.address}`));
      assert.match(out, /staking: Approved, tier ALL, bonded 1000 NODERR/);
      assert.match(out, /heartbeat live/);
    } else if (/noderr-node status/.test(script)) {
      assert.match(out, /^node http:\/\/127\.0\.0\.1:\d+: best #\d+/m);
    } else if (/noderr-node --version/.test(script)) {
      assert.match(out, /^noderr-node \d/m);
    } else if (/noderr-node results/.test(script)) {
      assert.match(out, /^settled tasks on /);
    } else if (/noderr-node models/.test(script)) {
      assert.ok(out.trim().length > 0);
    } else if (/grep -E '\^noderr_\(operator/.test(script)) {
      assert.match(out, new RegExp(`noderr_operator_tier\\{operator="${operator.address}"[^}]*\\} 1`));
      assert.match(out, /noderr_worker_tasks_assigned_total/);
    } else if (/state_getRuntimeVersion/.test(script)) {
      assert.equal(jsonResult(out).specName, 'noderr');
    } else if (/ml_listModels/.test(script)) {
      assert.ok(jsonResult(out).length >= 1, 'the ML service serves the tier\'s models');
    }
  }
  assert.ok(linked, 'the guide has status commands after the polkadot.js steps');
  // The guide worked: the new operator's worker answers its tasks and agrees with the network.
  await waitFor(async () => {
    const s = JSON.parse(run(`noderr-node status --rpc-url "$NODERR_RPC" --json`));
    const me = s.operators.find((o) => o.operator === operator.address);
    return me.agreed >= 1;
  }, { timeoutMs: 360_000, intervalMs: 5_000, what: 'the new operator agreeing on a task' });
});
