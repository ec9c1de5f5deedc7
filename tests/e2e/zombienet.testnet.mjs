// The local testnet as developers start it: zombienet/local.toml spawned by the real zombienet
// (zombienet-sdk's `zombie-cli`, native provider) with the release node, the market-data replay
// server, the feed seeded. Six validators, each an operator running its ML worker (Alice, Bob,
// Charlie GUARDIAN; Dave, Eve ORACLE; Ferdie ALL). Checked through JSON-RPC and polkadot.js only:
// - zombienet's validators are the chain's, and they author and finalize;
// - tasks of every kind settle, every answer agreeing (misses counted, at most a tenth), and
//   every tier is paid, rewards in the ratio of the tiers (GUARDIAN 5, ORACLE 2, ALL 1);
// - a validator SIGKILLed: finality goes on with the other five, no finalized block is lost; the
//   validator restarted with the same command line catches up, finalizes the same chain and its
//   operator works again;
// - Prometheus (Debian's package, scripts/setup-prometheus.sh) scraping the six nodes: every
//   query of the operator and network dashboards (deploy/grafana) returns data;
// - a forkless runtime upgrade while tasks run: try-runtime's upgrade checks pass on a snapshot
//   of the live state (runtime/tests/try_upgrade.rs), then sudo enacts the runtime one
//   spec_version later (scripts/build-upgrade-runtime.sh); every node runs it, block production
//   and finality go on, every task open across the upgrade settles;
// - a faulty operator (its own full node, the ML service in the test-only faulty mode) joins
//   through polkadot.js, answers beyond tolerance, is audited by a panel of GUARDIANs and slashed
//   after the deferral; no honest stake is touched.
// Run by scripts/test.sh after the other end-to-end tests (zombie-cli from
// scripts/setup-zombienet.sh); by hand: `node --test zombienet.testnet.mjs`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  artifactsDir, cacheDir, freePort, httpRpc, nodeBinary, portOpen, removeDir, repoRoot, rssMiB, sleep, submit, tempDir, waitFor,
} from './lib.mjs';
import { SEED_BARS, readBars, replayServer, seedFeed } from './devnet.mjs';

const zombieCli = process.env.NODERR_ZOMBIE_CLI || path.join(cacheDir, 'zombie-cli', 'bin', 'zombie-cli');
const prometheusBin = process.env.NODERR_PROMETHEUS || path.join(cacheDir, 'prometheus', 'usr', 'bin', 'prometheus');
/// Every port of the definition moved by this much, so a testnet a developer runs on the
/// definition's own ports does not collide with this one.
const PORT_OFFSET = 1000;
const UNIT = 10n ** 12n;
const TIERS = {
  alice: 'Guardian', bob: 'Guardian', charlie: 'Guardian', dave: 'Oracle', eve: 'Oracle', ferdie: 'All',
};
const WEIGHT = { Guardian: 5n, Oracle: 2n, All: 1n };

let dir;
let zombie;
let zombieLog = '';
let replay;
let prometheus;
let prometheusUrl;
let spawnedAt;
let firstSettledAfter;
let info;
const apis = {};
const ops = {};
const tierOf = {};
let models = {};
let keyring;
let upgradeBlob;

/** zombienet/local.toml with the artifacts' path filled in and every port moved. */
function render() {
  const shift = (n) => String(Number(n) + PORT_OFFSET);
  return readFileSync(path.join(repoRoot, 'zombienet', 'local.toml'), 'utf8')
    .replaceAll('@ARTIFACTS@', artifactsDir)
    .replace(/^(\s*(?:rpc_port|prometheus_port|p2p_port) = )(\d+)/gm, (_, k, n) => k + shift(n))
    .replace(/127\.0\.0\.1:(\d+)/g, (_, n) => `127.0.0.1:${shift(n)}`);
}

/** The processes of this network's nodes: pid, command line and working directory. */
function nodeProcesses() {
  const found = {};
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch { continue; }
    const base = argv.indexOf('--base-path');
    if (base < 0 || !argv[base + 1]?.startsWith(path.join(dir, 'net'))) continue;
    const name = argv[argv.indexOf('--name') + 1];
    found[name] = { pid: Number(pid), argv, cwd: readlinkSync(`/proc/${pid}/cwd`) };
  }
  return found;
}

async function connectWs(url) {
  const provider = new WsProvider(url, 1000, {}, 60_000);
  return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
}

function logTail(name, chars = 3000) {
  const file = path.join(dir, 'net', name, `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no log)';
}

/** Prometheus scraping `targets` every two seconds; returns its URL. */
function startPrometheus(targets) {
  assert.ok(existsSync(prometheusBin), `Prometheus is not installed at ${prometheusBin}: run scripts/setup-prometheus.sh`);
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global: { scrape_interval: 2s, evaluation_interval: 2s }',
    'scrape_configs:',
    '  - job_name: noderr',
    `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
  ].join('\n'));
  const port = 9090 + PORT_OFFSET;
  const log = openSync(path.join(dir, 'prometheus.log'), 'a');
  prometheus = spawn(prometheusBin, [
    `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', log, log] });
  return `http://127.0.0.1:${port}`;
}

/** An instant query's result vector (throws on a query Prometheus refuses). */
async function promQuery(query) {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${query}: ${body.error ?? res.status}`);
  return body.data.result;
}

async function finalizedNumber(api) {
  return (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
}

/** Task `id`'s finished record, or null while open. */
async function finished(api, id) {
  const s = await api.call.inferenceApi.task(id);
  return s.isSome && s.unwrap().isFinished ? s.unwrap().asFinished : null;
}

/** Runs `command`, failing with its output; returns its standard output. */
function run(command, args, options = {}) {
  const r = spawnSync(command, args, {
    cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 3_600_000, ...options,
  });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.error ?? ''}\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-6000)}`);
  return r.stdout;
}

/**
 * What the upgrade test needs, built before the network starts so that no compiler competes with
 * the nodes for the two cores: the runtime one spec_version later (its wasm blob) and the
 * try-runtime checks (a debug build, no wasm) that scripts/try-upgrade.mjs runs. Both are no-ops
 * when up to date.
 */
function buildUpgradeTools() {
  const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(cacheDir, 'target') };
  upgradeBlob = run(path.join(repoRoot, 'scripts', 'build-upgrade-runtime.sh'), [], { env }).trim().split('\n').pop();
  assert.ok(existsSync(upgradeBlob), upgradeBlob);
  run('cargo', ['test', '--locked', '-p', 'noderr-runtime', '--features', 'try-runtime', '--test', 'try_upgrade', '--no-run'],
    { env: { ...env, SKIP_WASM_BUILD: '1' } });
}

before(async () => {
  assert.ok(existsSync(zombieCli), `zombie-cli is not installed at ${zombieCli}: run scripts/setup-zombienet.sh`);
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  for (const [name, tier] of Object.entries(TIERS)) {
    const address = keyring.addFromUri(`//${name[0].toUpperCase()}${name.slice(1)}`).address;
    ops[name] = address;
    tierOf[address] = tier;
  }
  buildUpgradeTools();
  dir = tempDir('noderr-e2e-zombienet-');
  writeFileSync(path.join(dir, 'local.toml'), render());
  replay = await replayServer({ port: 9960 + PORT_OFFSET, bars: readBars() });
  spawnedAt = Date.now();
  // `-v none`: zombie-cli does not watch the nodes, so a test may kill and restart one.
  zombie = spawn(zombieCli, ['spawn', '-p', 'native', '-v', 'none', '-d', path.join(dir, 'net'), path.join(dir, 'local.toml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${path.dirname(nodeBinary)}:${process.env.PATH}` },
  });
  for (const s of [zombie.stdout, zombie.stderr]) s.on('data', (d) => { zombieLog = (zombieLog + d).slice(-20_000); });
  const infoFile = path.join(dir, 'net', 'zombie.json');
  await waitFor(() => existsSync(infoFile) || zombie.exitCode !== null,
    { timeoutMs: 300_000, intervalMs: 500, what: 'zombienet bringing the network up' });
  assert.ok(existsSync(infoFile), `zombie-cli exited (${zombie.exitCode}):\n${zombieLog}`);
  info = JSON.parse(readFileSync(infoFile, 'utf8'));
  assert.deepEqual(info.relay.nodes.map((n) => n.name).sort(), Object.keys(TIERS).sort());
  for (const n of info.relay.nodes) apis[n.name] = await connectWs(n.ws_uri);
  prometheusUrl = startPrometheus(info.relay.nodes.map((n) => new URL(n.prometheus_uri).host));
  for (const m of await apis.alice.call.modelRegistryApi.activeModels('Guardian')) {
    models[m.name.toUtf8()] = m.spec.artifactHash.toHex();
  }
  // Every node's ML service serves its tier's models (the others fetched them from Alice).
  await waitFor(async () => {
    for (const [i, name] of Object.keys(TIERS).entries()) {
      const want = TIERS[name] === 'All' ? 1 : 4;
      const r = await httpRpc(`http://127.0.0.1:${9961 + i + PORT_OFFSET}`, 'ml_listModels').catch(() => null);
      if ((r?.result?.length ?? 0) < want) return false;
    }
    return true;
  }, { timeoutMs: 180_000, intervalMs: 1_000, what: 'every node serving the models of its tier' });
  assert.equal(await seedFeed(apis.alice, { bars: readBars(), signer: keyring.addFromUri('//Alice') }), SEED_BARS);
});

after(async () => {
  for (const api of Object.values(apis)) await api.disconnect().catch(() => {});
  // zombie-cli kills its nodes when it exits normally; a signal ends it before that, so the
  // nodes (and a restarted one) are stopped here.
  const nodes = dir ? Object.values(nodeProcesses()) : [];
  for (const n of nodes) try { process.kill(n.pid, 'SIGINT'); } catch { /* gone */ }
  zombie?.kill('SIGINT');
  await sleep(3_000);
  for (const n of nodes) try { process.kill(n.pid, 'SIGKILL'); } catch { /* gone */ }
  zombie?.kill('SIGKILL');
  prometheus?.kill('SIGKILL');
  replay?.close();
  if (dir && !process.env.NODERR_KEEP_TESTNET) removeDir(dir);
});

test("zombienet's six validators are the chain's, and they author and finalize", async () => {
  const stashes = Object.keys(TIERS)
    .map((n) => keyring.addFromUri(`//${n[0].toUpperCase()}${n.slice(1)}//stash`).address).sort();
  const validators = (await apis.alice.query.session.validators()).map((v) => v.toString()).sort();
  assert.deepEqual(validators, stashes);
  assert.deepEqual((await apis.alice.query.validatorSet.validators()).map((v) => v.toString()).sort(), stashes);
  // Blocks from every validator (Aura: slot modulo the set), finalized on every node.
  const authors = new Set();
  let last = 0;
  await waitFor(async () => {
    const header = await apis.bob.rpc.chain.getHeader();
    const n = header.number.toNumber();
    for (let b = Math.max(last + 1, n - 5); b <= n; b += 1) {
      const at = await apis.bob.at(await apis.bob.rpc.chain.getBlockHash(b));
      const slot = (await at.query.aura.currentSlot()).toNumber();
      const set = await at.query.session.validators();
      authors.add(set[slot % set.length].toString());
    }
    last = n;
    return authors.size === 6;
  }, { timeoutMs: 240_000, intervalMs: 3_000, what: 'a block from each of the six validators' });
  const target = (await apis.alice.rpc.chain.getHeader()).number.toNumber();
  const hashes = new Set();
  for (const [name, api] of Object.entries(apis)) {
    await waitFor(async () => (await finalizedNumber(api)) >= target, { timeoutMs: 90_000, what: `${name} finalizing #${target}` });
    hashes.add((await api.rpc.chain.getBlockHash(target)).toHex());
  }
  assert.equal(hashes.size, 1, 'one finalized chain');
});

test('tasks of every kind settle, every answer agreeing; every tier is paid, in the ratio 5 : 2 : 1', async () => {
  const user = keyring.addFromUri('//Two');
  await submit(apis.alice, apis.alice.tx.inference.createTask(models.sentiment, { Text: 'Quarterly results beat every estimate and the shares soared' }, UNIT), user);
  const seen = new Map(); // kind -> task ids settled
  const paid = new Set();
  let assignments = 0;
  const misses = [];
  let next = 0;
  await waitFor(async () => {
    const count = (await apis.alice.query.inference.nextTaskId()).toNumber();
    for (; next < count; next += 1) {
      // Tasks stay open for a few blocks; come back for this one later.
      const record = await finished(apis.alice, next);
      if (!record) break;
      // A task fails below quorum when a heavy operator misses: with every answer agreeing
      // (checked below) that is a miss, counted within the tenth allowed; a failure from
      // disagreement fails the check below.
      const belowQuorum = record.outcome.isFailed;
      assert.ok(record.outcome.isSettled || belowQuorum,
        `task ${next}: ${JSON.stringify(record.toHuman())}\n${logTail('alice', 6000)}`);
      const kind = record.model.isNone ? 'observation'
        : Object.keys(models).find((k) => models[k] === record.model.unwrap().toHex());
      const agreed = record.operators.filter((o) => o.participation.isAgreed);
      // Everyone who answered agreed; a miss (a commit or reveal that did not land in time) is
      // counted, and must stay rare.
      const missed = record.operators.filter((o) => o.participation.isNotCommitted || o.participation.isNotRevealed);
      assert.equal(agreed.length + missed.length, record.operators.length, `task ${next} (${kind}): ${record.operators.toString()}`);
      assignments += record.operators.length;
      misses.push(...missed.map((o) => `task ${next} (${kind}) ${o.who}: ${o.participation}`));
      // Rewards in the ratio of the tiers: reward / weight the same for all, to the rounding of
      // the fee's and the emission's shares (a plank each).
      const per = agreed.map((o) => o.reward.toBigInt() * 10n / WEIGHT[tierOf[o.who.toString()]]);
      for (const p of per) assert.ok(p - per[0] <= 30n && per[0] - p <= 30n, `task ${next} (${kind}): ${record.operators.map((o) => `${o.who}:${o.reward}`)}`);
      if (belowQuorum) continue;
      firstSettledAfter ??= (Date.now() - spawnedAt) / 1000;
      for (const o of agreed) paid.add(tierOf[o.who.toString()]);
      seen.set(kind, [...(seen.get(kind) ?? []), next]);
    }
    return ['observation', 'price-transformer', 'gaf-regime', 'msrr', 'sentiment'].every((k) => seen.has(k))
      && paid.size === 3;
  }, { timeoutMs: 600_000, intervalMs: 3_000, what: `every kind settled and every tier paid (settled so far: ${[...seen.keys()]}, tiers paid ${[...paid]})` });
  const rss = Object.entries(nodeProcesses()).map(([name, p]) => `${name} ${rssMiB(p.pid).toFixed(0)}`);
  console.log(`zombienet: first settled task seen ${firstSettledAfter.toFixed(0)} s after zombie-cli was started; RSS per node (MiB): ${rss.join(', ')}`);
  console.log(`zombienet: ${next} tasks settled, ${assignments} assignments, ${misses.length} missed${misses.length ? `: ${misses.join('; ')}` : ''}`);
  assert.ok(misses.length * 10 <= assignments, `more than a tenth of the assignments missed: ${misses.join('; ')}`);
  // Each settled record is the same on every node.
  const id = seen.get('price-transformer')[0];
  const expected = (await finished(apis.alice, id)).toHex();
  for (const [name, api] of Object.entries(apis)) {
    await waitFor(async () => (await finished(api, id)) !== null, { timeoutMs: 60_000, what: `${name} finalizing task ${id}` });
    assert.equal((await finished(api, id)).toHex(), expected, name);
  }
});

/**
 * Queries that show labelled event counters: a series exists per label value only once the
 * event happened (a missed task, a refused submission), so on a healthy network they may be
 * empty. Prometheus must still accept them.
 */
const EVENT_ONLY = [/noderr_worker_tasks_missed_total/, /noderr_worker_submissions_refused_total/];

test('Prometheus scraping the six nodes: every query of the operator and network dashboards returns data', async () => {
  const dashboards = ['noderr-operator', 'noderr-network'].map((name) => JSON.parse(
    readFileSync(path.join(repoRoot, 'deploy', 'grafana', `${name}.json`), 'utf8')));
  // Grafana's variables, as a user with every node and operator selected would have them.
  const chains = await promQuery('count by (chain) (noderr_chain_exported_block)');
  assert.equal(chains.length, 1, JSON.stringify(chains));
  const vars = {
    __rate_interval: '1m', instance: '.*', operator: '.*', chain: chains[0].metric.chain,
  };
  const fill = (expr) => expr.replace(/\$\{?(\w+)\}?/g, (m, v) => {
    assert.ok(v in vars, `unknown dashboard variable ${m} in ${expr}`);
    return vars[v];
  });
  // Every scraped node is up, and each node's chain exporter has counted the settled tasks.
  await waitFor(async () => (await promQuery('up == 1')).length === 6,
    { timeoutMs: 60_000, intervalMs: 2_000, what: 'Prometheus scraping six nodes' });
  await waitFor(async () => {
    const r = await promQuery(fill('sum(max by (class) (rate(noderr_chain_tasks_total{chain="$chain", outcome="settled"}[$__rate_interval])))'));
    return r.length === 1 && Number(r[0].value[1]) > 0;
  }, { timeoutMs: 120_000, intervalMs: 2_000, what: 'a settled-task rate above zero in Prometheus' });
  let queries = 0;
  const empty = [];
  for (const d of dashboards) {
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      // label_values(selector, label): the values Grafana would offer.
      const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(v.query.query);
      const r = await promQuery(`count by (${label}) (${fill(selector)})`);
      assert.ok(r.length > 0, `${d.uid}: variable ${v.name} has no values (${v.query.query})`);
    }
    for (const p of d.panels) {
      assert.ok(p.targets.length > 0, `${d.uid}: panel ${p.title} has no query`);
      for (const t of p.targets) {
        queries += 1;
        const r = await promQuery(fill(t.expr));
        if (r.length === 0 && !EVENT_ONLY.some((re) => re.test(t.expr))) empty.push(`${d.uid} / ${p.title}: ${t.expr}`);
      }
    }
  }
  assert.deepEqual(empty, [], 'dashboard queries without data');
  // What the network dashboard shows agrees with the chain: six nodes finalizing, every tier paid.
  const nodes = await promQuery(fill('count(substrate_block_height{chain="$chain", status="finalized"})'));
  assert.equal(Number(nodes[0].value[1]), 6);
  // The exporter counts finalized blocks only, and Prometheus scrapes every two seconds: the
  // tasks the previous test saw settle at the best block are counted a little later.
  let paid;
  await waitFor(async () => {
    paid = await promQuery(fill('max by (tier) (noderr_chain_rewards_noderr_total{chain="$chain"})'));
    return paid.filter((x) => Number(x.value[1]) > 0).length === 3;
  }, { timeoutMs: 120_000, intervalMs: 2_000, what: `every tier's rewards in Prometheus (${JSON.stringify(paid?.map((x) => [x.metric.tier, x.value[1]]))})` });
  // Each node shows the operator it works for, with the tier the chain gives it.
  const tiers = await promQuery('noderr_operator_tier');
  const want = { Guardian: '3', Oracle: '2', All: '1' };
  assert.equal(tiers.length, 6, JSON.stringify(tiers.map((x) => x.metric)));
  for (const x of tiers) assert.equal(x.value[1], want[tierOf[x.metric.operator]], x.metric.operator);
  console.log(`zombienet: ${queries} dashboard queries answered by Prometheus (${prometheusUrl})`);
});

test('a validator SIGKILLed: finality goes on, no finalized block is lost; restarted, it catches up and its operator works again', async () => {
  const victim = 'eve';
  const before = nodeProcesses()[victim];
  assert.ok(before, `${victim}'s process`);
  const finalizedBefore = await finalizedNumber(apis.alice);
  const hashBefore = (await apis.alice.rpc.chain.getBlockHash(finalizedBefore)).toHex();
  const agreedBefore = (await apis.alice.call.inferenceApi.operator(ops[victim])).stats.agreed.toNumber();
  await apis[victim].disconnect();
  process.kill(before.pid, 'SIGKILL');
  // Gone, or a zombie process its parent (zombie-cli) has not reaped yet.
  const gone = () => {
    try {
      return / Z /.test(readFileSync(`/proc/${before.pid}/stat`, 'utf8').replace(/\(.*\)/, ''));
    } catch {
      return true;
    }
  };
  await waitFor(gone, { timeoutMs: 10_000, what: `${victim} gone` });

  // Five of six validators still finalize (GRANDPA needs more than two thirds).
  await waitFor(async () => (await finalizedNumber(apis.alice)) >= finalizedBefore + 5,
    { timeoutMs: 120_000, intervalMs: 2_000, what: `finality going on without ${victim}` });
  const finalizedWithout = await finalizedNumber(apis.bob);

  // The same command line, in the same directory, appending to the same log.
  const log = openSync(path.join(dir, 'net', victim, `${victim}.log`), 'a');
  // zombienet started `noderr-node` from its PATH: the same binary.
  const binary = before.argv[0].includes('/') ? before.argv[0] : nodeBinary;
  const child = spawn(binary, before.argv.slice(1), { cwd: before.cwd, stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  try {
    const wsUri = info.relay.nodes.find((n) => n.name === victim).ws_uri;
    await waitFor(async () => {
      if (exited) throw new Error(`restarted ${victim} exited (${JSON.stringify(exited)}):\n${logTail(victim)}`);
      return portOpen(Number(new URL(wsUri).port));
    }, { timeoutMs: 60_000, intervalMs: 500, what: `${victim}'s RPC after the restart\n${logTail(victim)}` });
    apis[victim] = await connectWs(wsUri);
    const best = (await apis.alice.rpc.chain.getHeader()).number.toNumber();
    await waitFor(async () => (await finalizedNumber(apis[victim])) >= best,
      { timeoutMs: 180_000, intervalMs: 2_000, what: `${victim} catching up to #${best}\n${logTail(victim)}` });
    // No finalized block lost: the restarted node and the others agree at every height checked.
    for (const h of [finalizedBefore, finalizedWithout, best]) {
      const want = (await apis.alice.rpc.chain.getBlockHash(h)).toHex();
      for (const [name, api] of Object.entries(apis)) {
        assert.equal((await api.rpc.chain.getBlockHash(h)).toHex(), want, `${name} at #${h}`);
      }
    }
    assert.equal((await apis[victim].rpc.chain.getBlockHash(finalizedBefore)).toHex(), hashBefore);
    // Its operator's worker answers tasks again.
    await waitFor(async () => (await apis.alice.call.inferenceApi.operator(ops[victim])).stats.agreed.toNumber() > agreedBefore,
      { timeoutMs: 300_000, intervalMs: 3_000, what: `${victim}'s operator agreeing on a task after the restart\n${logTail(victim)}` });
  } finally {
    // Left running for the cleanup in after() (it finds it by its base path).
    child.unref();
  }
});

/** New connections to every node (see the runtime upgrade test). */
async function renewConnections() {
  for (const [name, a] of Object.entries(apis)) {
    await a.disconnect().catch(() => {});
    apis[name] = await connectWs(info.relay.nodes.find((n) => n.name === name).ws_uri);
  }
}

/**
 * The events of block `hash`, read raw and decoded by a new connection to `wsUri`. polkadot.js
 * (16.5) follows a runtime upgrade with the new runtime's version-14 metadata, whose type ids
 * differ from version 15's; the connection that saw the upgrade sometimes decodes the upgrade
 * block's events with one version's storage entry and the other's types, logs "Unable to decode
 * storage system.events" and returns no events. A new connection has one set of types.
 */
async function eventsOf(wsUri, hash) {
  const fresh = await connectWs(wsUri);
  try {
    const raw = (await httpRpc(wsUri.replace(/^ws/, 'http'), 'state_getStorage', [fresh.query.system.events.key(), hash])).result;
    assert.ok(raw, `no events stored at ${hash}`);
    const records = fresh.registry.createType('Vec<FrameSystemEventRecord>', raw);
    return records.map(({ event }) => ({
      name: `${event.section}.${event.method}`,
      ok: fresh.events.sudo.Sudid.is(event) ? event.data[0].isOk : null,
      text: JSON.stringify(event.toHuman()),
    }));
  } finally {
    await fresh.disconnect();
  }
}

test('a runtime upgrade through sudo while tasks run: checked by try-runtime on the live state, enacted on every node, no task lost', async () => {
  try {
    await upgradeWhileTasksRun();
  } finally {
    // The tests after this one need connections that know the runtime now running, whatever
    // happened here.
    await renewConnections();
  }
});

async function upgradeWhileTasksRun() {
  let api = apis.alice;
  const aliceWs = info.relay.nodes.find((n) => n.name === 'alice').ws_uri;
  const url = info.relay.nodes.find((n) => n.name === 'alice').ws_uri.replace(/^ws/, 'http');
  const from = (await api.rpc.state.getRuntimeVersion()).specVersion.toNumber();
  const user = keyring.addFromUri('//Two');
  await submit(api, api.tx.inference.createTask(models.sentiment, { Text: 'The merger collapsed and the stock fell sharply' }, UNIT), user);

  // try-runtime's checks of the upgrade on the state the chain has now, as governance runs them.
  const finalized = (await api.rpc.chain.getFinalizedHead()).toHex();
  const out = run(process.execPath, [path.join(repoRoot, 'scripts', 'try-upgrade.mjs'), '--rpc', url, '--at', finalized,
    '--out', path.join(dir, 'state-snapshot.json')], { timeout: 300_000 });
  console.log(`zombienet: ${out.split('\n').find((l) => l.startsWith('try-runtime:'))}`);

  // The tasks open when the upgrade is submitted.
  const nextBefore = (await api.query.inference.nextTaskId()).toNumber();
  let firstOpen = nextBefore;
  for (let id = nextBefore - 1; id >= 0 && !(await finished(api, id)); id -= 1) firstOpen = id;
  const code = readFileSync(upgradeBlob);
  const { blockHash } = await submit(api, api.tx.sudo.sudo(api.tx.system.setCode(`0x${code.toString('hex')}`)), keyring.addFromUri('//Alice'));
  // submit() checks sudo's result in the events this connection decoded; those may be missing
  // here (see eventsOf), so the upgrade block's events are read again.
  const upgradeEvents = await eventsOf(aliceWs, blockHash.toHex());
  const sudid = upgradeEvents.find((e) => e.name === 'sudo.Sudid');
  assert.ok(sudid, `sudo.Sudid in the upgrade block's events: ${upgradeEvents.map((e) => e.name).join(', ')}`);
  assert.equal(sudid.ok, true, `sudo's result: ${sudid.text}`);
  assert.ok(upgradeEvents.some((e) => e.name === 'system.CodeUpdated'),
    `system.CodeUpdated in the upgrade block's events: ${upgradeEvents.map((e) => e.name).join(', ')}`);
  const upgradedAt = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  const after = upgradedAt + 20;

  // Every node runs the new runtime; the chain finalizes 20 blocks past the upgrade on each.
  for (const [name, a] of Object.entries(apis)) {
    await waitFor(async () => (await finalizedNumber(a)) >= after,
      { timeoutMs: 240_000, intervalMs: 2_000, what: `${name} finalizing #${after}, 20 blocks after the upgrade at #${upgradedAt}\n${logTail(name)}` });
    const at = await a.rpc.chain.getBlockHash(after);
    assert.equal((await a.rpc.state.getRuntimeVersion(at)).specVersion.toNumber(), from + 1, name);
    assert.equal((await a.rpc.chain.getBlockHash(upgradedAt)).toHex(), blockHash.toHex(), `${name}: the upgrade's block`);
  }
  // polkadot.js (16.5) follows a runtime upgrade with the version-14 metadata, which has no runtime
  // API definitions, so `api.call` loses the chain's own APIs; a new connection reads version 15
  // (in polkadot.js apps: reload the page). Every node gets a new connection here.
  await renewConnections();
  api = apis.alice;
  assert.equal((await api.query.system.lastRuntimeUpgrade()).unwrap().specVersion.toNumber(), from + 1);
  // Blocks kept coming: the largest gap in Aura slots across the upgrade.
  // Read raw: polkadot.js decodes storage of blocks before the upgrade with the new metadata.
  const slotKey = api.query.aura.currentSlot.key();
  let gap = 0;
  let prevSlot = null;
  for (let b = upgradedAt - 5; b <= after; b += 1) {
    const hash = (await api.rpc.chain.getBlockHash(b)).toHex();
    const raw = (await httpRpc(url, 'state_getStorage', [slotKey, hash])).result;
    const slot = Number(Buffer.from(raw.slice(2), 'hex').readBigUInt64LE(0));
    if (prevSlot !== null) gap = Math.max(gap, slot - prevSlot);
    prevSlot = slot;
  }

  // Every task open at the upgrade or created in the 20 blocks after it settles.
  const nextAfter = (await (await api.at(await api.rpc.chain.getBlockHash(after))).query.inference.nextTaskId()).toNumber();
  assert.ok(nextAfter > nextBefore, 'tasks were created after the upgrade');
  let missed = 0;
  let assigned = 0;
  for (let id = firstOpen; id < nextAfter; id += 1) {
    let record;
    await waitFor(async () => (record = await finished(api, id)) !== null,
      { timeoutMs: 180_000, intervalMs: 3_000, what: `task ${id} finishing after the upgrade` });
    assigned += record.operators.length;
    missed += record.operators.filter((o) => o.participation.isNotCommitted || o.participation.isNotRevealed).length;
    assert.ok(record.outcome.isSettled, `task ${id} across the upgrade: ${JSON.stringify(record.toHuman())}`);
  }
  console.log(`zombienet: runtime upgraded ${from} -> ${from + 1} at #${upgradedAt} (${code.length} bytes of code); `
    + `${nextAfter - firstOpen} tasks open across it all settled (${assigned} assignments, ${missed} missed); largest slot gap ${gap}`);
  // No round lost to the upgrade: at most one empty slot (a busy two-core machine can miss one
  // at any time), and the operators answered across it as they do otherwise (the tier test
  // allows a tenth of assignments missed).
  assert.ok(gap <= 2, `largest Aura slot gap across the upgrade: ${gap}`);
  assert.ok(missed * 10 <= assigned, `${missed} of ${assigned} assignments missed across the upgrade`);
}

test('a faulty operator joins, is audited by a GUARDIAN panel, confirmed and slashed; honest stakes untouched', async () => {
  const api = apis.alice;
  const alice = keyring.addFromUri('//Alice');
  const mallory = keyring.addFromUri('//Mallory');
  const stake = async (who) => (await api.call.stakingTiersApi.operatorStatus(who)).active.toBigInt();
  // Mallory's node: a full node of this network started the way OPERATOR_GUIDE.md starts an
  // operator's node that does not validate (off-chain worker always on, `--ml-operator`), with the
  // chain spec and boot node zombienet gave Bob; its ML service reports every number 0.05 too
  // high (`--ml-test-faulty=bias:50000`, test-only).
  const bob = nodeProcesses().bob;
  const flag = (name) => bob.argv[bob.argv.indexOf(name) + 1];
  const [rpcPort, p2pPort, mlPort] = [await freePort(), await freePort(), await freePort()];
  const base = path.join(dir, 'net', 'mallory');
  mkdirSync(base, { recursive: true });
  const log = openSync(path.join(base, 'mallory.log'), 'a');
  const market = bob.argv.flatMap((a, i) => (a === '--market-source' ? ['--market-source', bob.argv[i + 1]] : []));
  const child = spawn(nodeBinary, [
    '--chain', flag('--chain'), '--name', 'mallory', '--base-path', path.join(base, 'data'),
    '--rpc-port', String(rpcPort), '--rpc-methods', 'unsafe', '--port', String(p2pPort), '--no-prometheus',
    '--bootnodes', flag('--bootnodes'), '--no-mdns', `--ml-rpc-addr=127.0.0.1:${mlPort}`,
    '--offchain-worker', 'always', `--ml-operator=${mallory.address}`, '--ml-test-faulty=bias:50000', ...market,
  ], { stdio: ['ignore', log, log] });
  child.unref(); // stopped by after(), which finds it by its base path
  const logOf = () => logTail('mallory');
  await waitFor(() => portOpen(rpcPort), { timeoutMs: 60_000, intervalMs: 500, what: `Mallory's node RPC\n${logOf()}` });
  const rpc = `http://127.0.0.1:${rpcPort}`;

  // Mallory joins as a staker does in polkadot.js apps: funds, apply, approval, bond at the ALL
  // threshold, a worker key made by its own node, linked.
  const honest = Object.keys(TIERS);
  const before = {};
  for (const n of honest) before[n] = await stake(ops[n]);
  await submit(api, api.tx.balances.transferKeepAlive(mallory.address, 5_000n * UNIT), alice);
  await submit(api, api.tx.stakingTiers.apply('mallory', 'ops@example.org', 'eu', 'Cpu'), mallory);
  await submit(api, api.tx.sudo.sudo(api.tx.stakingTiers.approve(mallory.address)), alice);
  await submit(api, api.tx.stakingTiers.bond(1_000n * UNIT), mallory);
  const key = await httpRpc(rpc, 'worker_generateKey');
  assert.ok(key.result, JSON.stringify(key.error));
  await submit(api, api.tx.inference.linkWorker(key.result.ss58), mallory);
  await waitFor(async () => (await api.call.stakingTiersApi.operatorStatus(mallory.address)).tier.toString() === 'All',
    { timeoutMs: 180_000, intervalMs: 2_000, what: 'Mallory in the ALL tier' });
  const inTierAt = (await api.rpc.chain.getHeader()).number.toNumber();
  // The node's model store follows the operator's tier: it fetches the ALL tier's model from peers.
  await waitFor(async () => {
    const r = await httpRpc(`http://127.0.0.1:${mlPort}`, 'ml_listModels').catch(() => null);
    return (r?.result?.length ?? 0) >= 1;
  }, { timeoutMs: 180_000, intervalMs: 1_000, what: `Mallory's node serving the ALL tier's model\n${logOf()}` });

  // Price tasks, which every tier serves: Mallory's answers are outliers, so the tasks it works on
  // are disputed and audited by a panel of GUARDIANs who did not work on them. With three
  // GUARDIANs, drawn like everyone else, a panel forms only for the tasks they mostly stayed out
  // of, so whether one of Mallory's first tasks gets one is chance: a batch of user tasks every
  // 15 blocks (about the time one settles; an audit takes longer, so batches overlap audits) until
  // an offence of Mallory's is confirmed, for at most 200 blocks.
  const user = keyring.addFromUri('//Two');
  const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
  const deadline = (await head()) + 200;
  let offences = [];
  let batches = 0;
  while (offences.length === 0 && (await head()) < deadline) {
    const nonce = (await api.rpc.system.accountNextIndex(user.address)).toNumber();
    await Promise.all(Array.from({ length: 12 }, (_, i) => api.tx.inference
      .createTask(models['price-transformer'], { History: { feed: 0, end: 0 } }, UNIT)
      .signAndSend(user, { nonce: nonce + i })));
    batches += 1;
    const until = Math.min((await head()) + 15, deadline);
    await waitFor(async () => {
      offences = (await api.call.guardianApi.offences(mallory.address))[0];
      return offences.length > 0 || (await head()) >= until;
    }, { timeoutMs: 300_000, intervalMs: 3_000, what: `an offence of Mallory's confirmed\n${logOf()}` });
  }
  assert.ok(offences.length > 0, `no audit of a task of Mallory's confirmed an offence in 200 blocks (${batches} batches of tasks)`);
  const offence = offences[0];
  assert.equal(offence.kind.toString(), 'OutOfTolerance');
  const task = offence.task.unwrap().toNumber();
  const record = await finished(api, task);
  const wrong = record.operators.find((o) => o.who.toString() === mallory.address);
  assert.ok(wrong?.participation.isOutlier, `Mallory on task ${task}: ${wrong?.participation}`);

  // The slash lands after the deferral: 5 % of the bond, the tier gone with it. Mallory's node
  // keeps answering wrongly, so further audits may confirm more offences meanwhile, each slashing
  // the remaining stake by the base fraction escalated per earlier offence: the stake read is
  // the bond after the first k of them, for some k >= 1.
  await waitFor(async () => (await stake(mallory.address)) < 1_000n * UNIT,
    { timeoutMs: 180_000, intervalMs: 2_000, what: "Mallory's slash applied" });
  const slashed = await stake(mallory.address);
  const config = await api.call.guardianApi.config();
  const tolerancePart = 50_000_000n; // 5 % in parts per billion, the OutOfTolerance fraction of the presets
  const escalation = config.escalation.toBigInt();
  const all = (await api.call.guardianApi.offences(mallory.address))[0];
  let remaining = 1_000n * UNIT;
  const after = [];
  all.forEach((o, prior) => {
    const parts = o.fraction.toBigInt();
    assert.equal(parts, tolerancePart + (tolerancePart * escalation / 1_000_000_000n) * BigInt(prior), `offence ${prior}'s fraction`);
    remaining -= remaining * parts / 1_000_000_000n;
    after.push(remaining);
  });
  assert.equal(after[0], 950n * UNIT, '5 % of 1,000 NODERR');
  assert.ok(after.includes(slashed), `Mallory's stake ${slashed} is the bond after some of its ${all.length} slashes: ${after}`);
  assert.ok((await api.call.stakingTiersApi.operatorStatus(mallory.address)).tier.isNone, 'no tier below the ALL threshold');
  for (const n of honest) {
    assert.equal(await stake(ops[n]), before[n], `${n}'s stake`);
    assert.equal((await api.call.guardianApi.offences(ops[n]))[0].length, 0, `${n}'s offences`);
  }
  // The network dashboard's slash counter shows it.
  await waitFor(async () => (await promQuery('max(noderr_chain_slashes_total{state="applied"})'))
    .some((x) => Number(x.value[1]) >= 1), { timeoutMs: 120_000, intervalMs: 2_000, what: 'the applied slash in Prometheus' });
  console.log(`zombienet: Mallory in the ALL tier at #${inTierAt}; offence on task ${task} confirmed at #${offence.at.toNumber()} `
    + `(${offence.at.toNumber() - inTierAt} blocks later, ${batches} batches of tasks); stake ${slashed / UNIT} NODERR after `
    + `${after.indexOf(slashed) + 1} of ${all.length} confirmed offences, tier removed`);
});

test('scripts/testnet.sh with a port of the network in use stops before starting anything, naming the port', async () => {
  // Charlie's RPC port in zombienet/local.toml, held by another program.
  const { createServer } = await import('node:net');
  const holder = createServer();
  await new Promise((resolve, reject) => holder.once('error', reject).listen(9946, '127.0.0.1', resolve));
  const runDir = tempDir('noderr-e2e-testnet-ports-');
  try {
    const r = spawnSync(path.join(repoRoot, 'scripts', 'testnet.sh'), [], {
      env: { ...process.env, NODERR_TESTNET_DIR: runDir }, encoding: 'utf8', timeout: 600_000,
    });
    assert.equal(r.status, 1, r.stderr.slice(-3000));
    // The first port in use is named (9946 unless a program holds one of the earlier ports).
    assert.match(r.stderr, /port \d+ is in use \(see: ss -ltnp 'sport = :\d+'\); stop what listens there/);
    assert.ok(!existsSync(path.join(runDir, 'net')), 'nothing was spawned');
  } finally {
    holder.close();
    removeDir(runDir);
  }
});
