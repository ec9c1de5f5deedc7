// Guardian validation on the three-node `local` network, started as operators start it, with
// one dishonest operator: Charlie's node runs its ML service in the test-only faulty mode
// (`--ml-test-faulty=bias:50000`: every number it reports is 0.05 too high). Three more
// GUARDIANs join through polkadot.js (apply, sudo approval, bond, a worker key made by Alice's
// node and linked). The scheduled price tasks Charlie answers are outliers, so they are
// audited: a panel of GUARDIANs who did not work on the task re-runs the model on the same
// on-chain input through their own workers' commit-reveal; the panel confirms the offence, the
// slash lands after the staking pallet's deferral, Charlie's tier drops below ALL and it is no
// longer assigned. No honest operator's stake is touched. Driven and checked through
// polkadot.js and JSON-RPC only.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  connect, httpRpc, removeDir, runToExit, servedModels, startLocalValidators, startNode, submit, tempDir, waitFor,
} from './lib.mjs';
import { SEED_BARS, readBars, replayServer, seedFeed } from './devnet.mjs';

const UNIT = 10n ** 12n;
const BIAS = 50_000;

let keyring;
let replay;
const nodes = {};
const apis = {};
const dirs = [];
const ops = {}; // name -> address
let models = {};
let unsubscribe;
// Everything the chain said, in order: { block, section, method, data }.
const seen = [];
let guardiansLiveAt = null; // block from which the three new GUARDIANs were in tier

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  for (const who of ['Alice', 'Bob', 'Charlie', 'G1', 'G2', 'G3']) ops[who] = keyring.addFromUri(`//${who}`).address;
  replay = await replayServer({ bars: readBars() });
  const source = `--market-source=binance=http://127.0.0.1:${replay.address().port}`;
  dirs.push(tempDir('noderr-e2e-guard-alice-'), tempDir('noderr-e2e-guard-bob-'), tempDir('noderr-e2e-guard-charlie-'));
  const { boot, ...validators } = await startLocalValidators({ aliceDir: dirs[0], bobDir: dirs[1], extraArgs: [source] });
  Object.assign(nodes, validators);
  nodes.charlie = await startNode({
    chain: 'local', basePath: dirs[2], validatorFlag: '--charlie', extraArgs: [boot, `--ml-test-faulty=bias:${BIAS}`],
  });
  for (const [name, node] of Object.entries(nodes)) apis[name] = await connect(node);
  const api = apis.alice;
  for (const m of await api.call.modelRegistryApi.activeModels('Guardian')) {
    models[m.name.toUtf8()] = m.spec.artifactHash.toHex();
  }
  unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const at = await api.at(header.hash);
    const block = header.number.toNumber();
    for (const { event } of await at.query.system.events()) {
      if (['guardian', 'inference', 'stakingTiers'].includes(event.section)) {
        seen.push({ block, section: event.section, method: event.method, data: event.data });
      }
    }
  });
  await waitFor(async () => {
    for (const node of Object.values(nodes)) if ((await servedModels(node).catch(() => [])).length < 4) return false;
    return true;
  }, { timeoutMs: 180_000, what: 'every ML service serving the default models' });
  await waitFor(async () => (await apis.charlie.rpc.system.health()).peers.toNumber() >= 2,
    { timeoutMs: 60_000, what: "Charlie's node connected to both validators" });
  const alice = keyring.addFromUri('//Alice');
  assert.equal(await seedFeed(api, { bars: readBars(), signer: alice }), SEED_BARS);

  // Three GUARDIANs join as a staker would from polkadot.js apps.
  const guardians = ['G1', 'G2', 'G3'].map((g) => keyring.addFromUri(`//${g}`));
  for (const g of guardians) await submit(api, api.tx.balances.transferKeepAlive(g.address, 20_000n * UNIT), alice);
  await Promise.all(guardians.map((g, i) => submit(api, api.tx.stakingTiers.apply(`guardian-${i + 1}`, 'ops@example.org', 'eu', 'Cpu'), g)));
  for (const g of guardians) await submit(api, api.tx.sudo.sudo(api.tx.stakingTiers.approve(g.address)), alice);
  await Promise.all(guardians.map((g) => submit(api, api.tx.stakingTiers.bond(10_000n * UNIT), g)));
  const rpcUrl = `http://127.0.0.1:${nodes.alice.rpcPort}`;
  for (const g of guardians) {
    const key = await httpRpc(rpcUrl, 'worker_generateKey');
    assert.ok(key.result, JSON.stringify(key.error));
    await submit(api, api.tx.inference.linkWorker(key.result.ss58), g);
  }
  await waitFor(async () => {
    for (const g of guardians) {
      if ((await api.call.stakingTiersApi.operatorStatus(g.address)).tier.toString() !== 'Guardian') return false;
    }
    return true;
  }, { timeoutMs: 180_000, intervalMs: 2_000, what: 'the new GUARDIANs in their tier' });
  guardiansLiveAt = (await api.rpc.chain.getHeader()).number.toNumber();
});

after(async () => {
  unsubscribe?.();
  for (const api of Object.values(apis)) await api.disconnect();
  for (const node of Object.values(nodes)) await node.stop();
  replay?.close();
  dirs.forEach(removeDir);
});

const events = (section, method) => seen.filter((e) => e.section === section && e.method === method);
const stake = async (who) => (await apis.alice.call.stakingTiersApi.operatorStatus(who)).active.toBigInt();

test('a faulty operator is audited, confirmed, slashed after the deferral and no longer assigned; honest stakes untouched', async () => {
  const api = apis.alice;
  const honest = ['Alice', 'Bob', 'G1', 'G2', 'G3'];
  const before = {};
  for (const who of [...honest, 'Charlie']) before[who] = await stake(ops[who]);
  assert.equal(before.Charlie, 1_000n * UNIT, 'Charlie is bonded at exactly the ALL threshold');

  // The offence is confirmed by an audit.
  let offence;
  await waitFor(async () => {
    offence = events('guardian', 'OffenceConfirmed').find((e) => e.data.who.toString() === ops.Charlie);
    return !!offence;
  }, { timeoutMs: 900_000, intervalMs: 2_000, what: "Charlie's offence confirmed" });
  assert.equal(offence.data.kind.toString(), 'OutOfTolerance');
  const task = offence.data.task.unwrap().toNumber();
  // Its evidence: the settled task, Charlie's reveal beyond the model's tolerance.
  const record = (await api.call.inferenceApi.task(task)).unwrap().asFinished;
  assert.equal(record.model.unwrap().toHex(), models['price-transformer']);
  const aggregate = record.outcome.asSettled.answer.map((x) => x.toNumber());
  const charlie = record.operators.find((o) => o.who.toString() === ops.Charlie);
  assert.ok(charlie.participation.isOutlier, charlie.participation.toString());
  const wrong = charlie.answer.unwrap().map((x) => x.toNumber());
  assert.ok(wrong.some((x, i) => Math.abs(x - aggregate[i]) > 1_000), `${wrong} against ${aggregate}`);
  // The audit: a panel of GUARDIANs, none of the task's operators, re-ran it and agreed.
  const opened = events('guardian', 'AuditOpened').find((e) => e.data.task.toNumber() === task);
  assert.ok(opened, 'the task was audited');
  assert.ok(opened.data.disputed.isTrue, 'an outlier makes the task disputed');
  const auditId = opened.data.audit.toNumber();
  const audit = (await api.call.inferenceApi.task(auditId)).unwrap().asFinished;
  const panel = audit.operators.map((o) => o.who.toString());
  const workers = record.operators.map((o) => o.who.toString());
  assert.ok(panel.length >= 2, `panel ${panel}`);
  for (const g of panel) {
    assert.ok(!workers.includes(g), `${g} worked on the task and sits on its panel`);
    assert.equal((await api.call.stakingTiersApi.operatorStatus(g)).tier.toString(), 'Guardian');
  }
  // The panel re-ran the same model on the same input and agrees with the task's aggregate, bit
  // for bit: every honest node computes the same numbers.
  for (const o of audit.operators) {
    assert.ok(o.participation.isAgreed, `${o.who}: ${o.participation}`);
    assert.deepEqual(o.answer.unwrap().map((x) => x.toNumber()), aggregate);
    assert.ok(o.reward.toBigInt() > 0n, 'panel work is paid');
  }
  const concluded = events('guardian', 'AuditConcluded').find((e) => e.data.audit.toNumber() === auditId);
  assert.deepEqual(concluded.data.offenders.map((a) => a.toString()), [ops.Charlie]);

  // Detection latency: Charlie's wrong answers (every reveal of his is wrong) from the first one
  // that panels could judge (revealed once the new GUARDIANs were in tier) to the offence.
  const reveals = events('inference', 'Revealed').filter((e) => e.data.operator.toString() === ops.Charlie);
  const judged = reveals.find((e) => e.data.task.toNumber() === task);
  const first = reveals.find((e) => e.block >= guardiansLiveAt) ?? judged;
  const counted = reveals.filter((e) => e.block >= first.block && e.block <= judged.block).length;
  console.log(`detection: ${counted} wrong answer(s) of Charlie's and ${offence.block - first.block} blocks from the `
    + `first one panels could judge (block ${first.block}) to the confirmed offence (block ${offence.block}); `
    + `audit ${auditId} of task ${task} by ${panel.length} GUARDIANs; ${reveals.length} wrong answers in all`);

  // The slash lands after the deferral; the tier drops at once.
  const scheduled = events('stakingTiers', 'SlashScheduled').find((e) => e.data.who.toString() === ops.Charlie);
  assert.ok(scheduled, 'slash scheduled');
  assert.equal(offence.data.slash.unwrap().toNumber(), scheduled.data.id.toNumber());
  let applied;
  await waitFor(async () => {
    applied = events('stakingTiers', 'SlashApplied').find((e) => e.data.id.toNumber() === scheduled.data.id.toNumber());
    return !!applied;
  }, { timeoutMs: 120_000, intervalMs: 2_000, what: 'the slash applied' });
  assert.ok(applied.block >= scheduled.data.applyAt.toNumber(), 'not before the deferral window ends');
  assert.ok(applied.block - offence.block >= 5, 'deferred by the staking pallet');
  const slashed = events('stakingTiers', 'SlashApplied')
    .filter((e) => e.data.who.toString() === ops.Charlie)
    .reduce((sum, e) => sum + e.data.amount.toBigInt(), 0n);
  assert.equal(applied.data.amount.toBigInt(), 50n * UNIT, '5% of 1,000 NODERR');
  assert.equal(await stake(ops.Charlie), before.Charlie - slashed);
  const status = await api.call.stakingTiersApi.operatorStatus(ops.Charlie);
  assert.ok(status.tier.isNone, `Charlie keeps no tier below the ALL threshold: ${status.tier}`);
  const history = await api.call.guardianApi.offences(ops.Charlie);
  assert.ok(history[0].length >= 1 && history[0][0].kind.toString() === 'OutOfTolerance');

  // No longer assigned: the next scheduled price tasks go to others.
  const after = applied.block;
  await waitFor(() => events('inference', 'TaskAssigned').filter((e) => e.block > after + 1).length >= 4,
    { timeoutMs: 300_000, intervalMs: 2_000, what: 'tasks assigned after the slash' });
  for (const e of events('inference', 'TaskAssigned').filter((x) => x.block > after + 1)) {
    assert.ok(!e.data.operators.map((a) => a.toString()).includes(ops.Charlie), `task ${e.data.task} assigned to Charlie`);
  }

  // Every honest operator's stake is untouched, and none has an offence.
  for (const who of honest) {
    assert.equal(await stake(ops[who]), before[who], `${who}'s stake`);
    assert.equal((await api.call.guardianApi.offences(ops[who]))[0].length, 0, `${who}'s offences`);
  }
  assert.equal(events('guardian', 'OffenceConfirmed').filter((e) => e.data.who.toString() !== ops.Charlie).length, 0);
});

test('`noderr-node results` shows the audit, the offence and the slash as a user watches them', async () => {
  const url = `--rpc-url=http://127.0.0.1:${nodes.alice.rpcPort}`;
  const json = await runToExit(['results', url, '--from=1', '--json'], { timeoutMs: 120_000 });
  assert.equal(json.code, 0, json.stderr);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const offence = lines.find((l) => l.kind === 'offence' && l.who === ops.Charlie);
  assert.ok(offence, 'the offence is printed');
  assert.equal(offence.offence, 'OutOfTolerance');
  assert.equal(offence.percent, 5);
  assert.ok(lines.some((l) => l.kind === 'audit-opened' && l.task === offence.task), 'the audit that found it');
  assert.ok(lines.some((l) => l.kind === 'audit-concluded' && l.offenders.includes(ops.Charlie)));
  const applied = lines.find((l) => l.kind === 'slash-applied' && l.who === ops.Charlie);
  assert.ok(applied && BigInt(applied.amount) === 50n * UNIT, JSON.stringify(applied));
  const text = await runToExit(['results', url, '--from=1'], { timeoutMs: 120_000 });
  assert.match(text.stdout, /audit \d+ of task \d+: \d GUARDIANs answered, beyond tolerance: /);
  assert.match(text.stdout, /offence: \S+ OutOfTolerance on task \d+, slash \d+ of 5% scheduled/);
  assert.match(text.stdout, /slash \d+ applied: \S+ lost 50(\.0+)? NODERR/);
});
