// Helpers for the end-to-end tests: start the real release node the way an operator does,
// find free ports, wait for its JSON-RPC, and read process facts from /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target');
export const nodeBinary = process.env.NODERR_NODE || path.join(targetDir, 'release', 'noderr-node');
/// The ML command line (train, inspect, registration), as scripts/default-artifacts.sh builds it.
export const mlBinary = process.env.NODERR_ML || path.join(targetDir, 'release', 'noderr-ml');
export const cacheDir = process.env.NODERR_CACHE || path.join(os.homedir(), '.cache', 'noderr');
/// The default model artifacts (scripts/default-artifacts.sh), registered in every test chain's
/// genesis and imported by test nodes (`--ml-models`) unless told otherwise.
export const artifactsDir = process.env.NODERR_ARTIFACTS || path.join(cacheDir, 'artifacts');
export const dataDir = process.env.NODERR_DATA || path.join(cacheDir, 'data');

function unusedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Every port handed out by this process: a port is free again once probed, and a node binds
// its ML port seconds after start, so without this record the next node's RPC port could be
// the previous node's ML port, and polkadot.js would connect to the ML service.
const handedOut = new Set();

/** A port no process listens on and no earlier call in this process returned. */
export async function freePort() {
  for (;;) {
    const port = await unusedPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs the node binary (or `binary`) to completion; resolves with its exit code and output. */
export function runToExit(args, { timeoutMs = 60_000, binary = nodeBinary } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (e) => reject(new Error(`${binary}: ${e.message}`)));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(binary)} ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Nodes started and not exited: a timed-out wait shows the end of their logs. */
const liveNodes = new Set();

/**
 * Starts a dev node with its own base path and ports. The caller stops it with `stop()`.
 * `startedAt` is taken just before the process is spawned. `onLog(log, child)` sees the log
 * (its last 100-200 kB) as each piece arrives, to act at an exact moment (a kill, say).
 * `binary` and `prefixArgs` start the node through another program (`setpriv ... -- node`).
 */
/** Alice's fixed node key on the `local` chain, and the peer id it gives (for `--bootnodes`). */
export const ALICE_NODE_KEY = '0000000000000000000000000000000000000000000000000000000000000001';
export const ALICE_PEER_ID = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';

/**
 * The `local` chain's two validators, Alice and Bob, started as the README's multi-node network
 * starts them, in base paths `aliceDir` and `bobDir`, each with `extraArgs` (a market source,
 * say). Returns both nodes and the `--bootnodes` argument that reaches Alice, for more nodes.
 */
export async function startLocalValidators({ aliceDir, bobDir, extraArgs = [] }) {
  const aliceP2p = await freePort();
  const boot = `--bootnodes=/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`;
  const alice = await startNode({
    chain: 'local', basePath: aliceDir, p2pPort: aliceP2p, extraArgs: [`--node-key=${ALICE_NODE_KEY}`, ...extraArgs],
  });
  const bob = await startNode({ chain: 'local', basePath: bobDir, validatorFlag: '--bob', extraArgs: [boot, ...extraArgs] });
  return { alice, bob, boot };
}

export async function startNode({
  basePath, extraArgs = [], chain = 'dev', p2pPort: fixedP2p, validatorFlag = '--alice',
  forceChainFlag = false, mlModels = artifactsDir, validator = true, onLog = null,
  binary = nodeBinary, prefixArgs = [],
} = {}) {
  const rpcPort = await freePort();
  const p2pPort = fixedP2p ?? await freePort();
  const promPort = await freePort();
  const mlPort = await freePort();
  // `--dev` is how developers start the dev chain; other chains start as an authority the
  // way the README's local network does.
  const chainArgs = chain === 'dev' && !forceChainFlag
    ? ['--dev']
    : [`--chain=${chain}`, ...(validatorFlag ? [validatorFlag] : []),
      ...(validator ? ['--validator'] : []), '--unsafe-force-node-key-generation'];
  const args = [
    ...chainArgs,
    `--base-path=${basePath}`,
    `--rpc-port=${rpcPort}`,
    `--port=${p2pPort}`,
    `--prometheus-port=${promPort}`,
    `--ml-rpc-addr=127.0.0.1:${mlPort}`,
    ...(mlModels ? [`--ml-models=${mlModels}`] : []),
    '--no-mdns',
    '--no-telemetry',
    ...extraArgs,
  ];
  const startedAt = Date.now();
  const child = spawn(binary, [...prefixArgs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
    if (log.length > 200_000) log = log.slice(-100_000);
    onLog?.(log, child);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    liveNodes.delete(node);
    resolve({ code, signal });
  }));
  const node = {
    child,
    rpcPort,
    promPort,
    mlPort,
    mlUrl: `http://127.0.0.1:${mlPort}`,
    startedAt,
    exited,
    log: () => log,
    url: `ws://127.0.0.1:${rpcPort}`,
    async stop(signal = 'SIGINT') {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  liveNodes.add(node);
  return node;
}

/** The last lines of every running node's log, warnings and errors first. */
function liveLogs(chars = 3000) {
  return [...liveNodes].map((n) => {
    const log = n.log();
    const problems = log.split('\n').filter((l) => /WARN|ERROR/.test(l)).slice(-15).join('\n');
    return `--- node on RPC port ${n.rpcPort}: last warnings and errors\n${problems}\n`
      + `--- its last log lines\n${log.slice(-chars)}`;
  }).join('\n');
}

/** Connects the polkadot.js API, retrying until the node's RPC server listens. */
export async function connect(node, { timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (node.child.exitCode !== null) {
      throw new Error(`node exited with ${node.child.exitCode} before RPC was up:\n${node.log().slice(-4000)}`);
    }
    if (await portOpen(node.rpcPort)) break;
    if (Date.now() > deadline) throw new Error(`RPC port ${node.rpcPort} not open after ${timeoutMs} ms`);
    await sleep(200);
  }
  const provider = new WsProvider(node.url, 1000, {}, timeoutMs);
  return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
}

/** Whether something listens on 127.0.0.1:`port`. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `predicate` (async) returns a truthy value; returns it. */
export async function waitFor(predicate, { timeoutMs = 60_000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${liveLogs()}`);
    }
    await sleep(intervalMs);
  }
}

/** CPU time (user + system) a process has used, in seconds, from /proc (100 ticks a second). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The node's Prometheus samples: `name{labels}` (without the node's `chain` label) -> value. */
export async function scrapeMetrics(node) {
  const text = await (await fetch(`http://127.0.0.1:${node.promPort}/metrics`)).text();
  const samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l && !l.startsWith('chain='));
    samples.set(labels.length ? `${m[1]}{${labels.join(',')}}` : m[1], Number(m[3]));
  }
  return samples;
}

/** Resident set size of a process, in MiB, from /proc. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
  return kb / 1024;
}

/**
 * Signs and submits `tx`, resolving with `{ events, blockHash }` once it is in a block (or
 * finalized, with `finalized: true`). Rejects with `section.Name` for a module error, and when
 * a sudo-wrapped call failed inside.
 */
export function submit(api, tx, signer, { finalized = false } = {}) {
  return new Promise((resolve, reject) => {
    let unsub;
    const done = (fn, value) => { unsub?.(); fn(value); };
    tx.signAndSend(signer, ({ status, dispatchError, events }) => {
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          done(reject, new Error(`${section}.${name}`));
        } else {
          done(reject, new Error(dispatchError.toString()));
        }
      } else if (finalized ? status.isFinalized : status.isInBlock) {
        const sudoFailed = events.find(({ event }) => api.events.sudo?.Sudid.is(event) && event.data[0].isErr);
        if (sudoFailed) {
          const err = sudoFailed.event.data[0].asErr;
          const what = err.isModule
            ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(err.asModule))
            : err.toString();
          done(reject, new Error(`sudo call failed: ${what}`));
        }
        else done(resolve, { events, blockHash: finalized ? status.asFinalized : status.asInBlock });
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        done(reject, new Error(`transaction ${status.type}`));
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

/// One JSON-RPC call over HTTP; returns the whole response object (result or error).
export async function httpRpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return res.json();
}

/// The last `n` bars of the prepared BTC series, oldest first.
export function lastBars(n) {
  const lines = readFileSync(path.join(dataDir, 'btc_1h.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.slice(-n).map((l) => {
    const [, open, high, low, close, volume] = l.split(',').map(Number);
    return { open, high, low, close, volume };
  });
}

/// Hashes of the models a node's ML service serves, sorted.
export async function servedModels(node) {
  return ((await httpRpc(node.mlUrl, 'ml_listModels')).result ?? []).map((m) => m.hash).sort();
}

/// Trains version 1.1.0 of the MSRR model (a fraction of a second) into `file`; its bytes.
export async function trainMsrrV11(file) {
  const out = await runToExit(
    ['train', 'msrr', '--epochs', '1', '--seed', '7', '--version', '1.1.0', '--out', file],
    { binary: mlBinary, timeoutMs: 120_000 },
  );
  if (out.code !== 0) throw new Error(`noderr-ml train: ${out.stderr}`);
  return readFileSync(file);
}

/// What `noderr-ml registration file ...args` prints, and the polkadot.js call it prints built
/// on `api` (`tx`, with its source `text`).
export async function registrationCall(api, file, args = []) {
  const out = await runToExit(['registration', file, ...args], { binary: mlBinary });
  if (out.code !== 0) throw new Error(`noderr-ml registration: ${out.stderr}`);
  const text = /call {2}(api\.tx\..*)$/m.exec(out.stdout)[1];
  return { stdout: out.stdout, text, tx: new Function('api', `return ${text};`)(api) };
}

/// Waits until the node's log has a line matching `re`. A log line written before a state change
/// can reach this process after the RPC answer that shows the change: wait, do not race.
export async function waitForLog(node, re, { timeoutMs = 10_000 } = {}) {
  await waitFor(async () => re.test(node.log()), { timeoutMs, what: `a log line matching ${re}` });
}

/** Feed 0's on-chain bars `end + 1 - len ..= end`, as the ML service reads them (numbers). */
export async function barWindow(api, end, len) {
  const out = [];
  for (let n = end + 1 - len; n <= end; n += 1) {
    const b = (await api.query.inference.bars(0, n % 512)).unwrap();
    const d = (x) => Number(x.toBigInt()) / 1e6;
    out.push({ open: d(b.open), high: d(b.high), low: d(b.low), close: d(b.close), volume: d(b.volume) });
  }
  return out;
}
