#!/usr/bin/env node
// try-runtime's upgrade checks on a live chain's state, before governance enacts a new runtime:
//   node scripts/try-upgrade.mjs --rpc http://127.0.0.1:9944 [--at 0xBLOCKHASH] [--out FILE]
// Takes every storage pair of the chain at the block (the finalized head by default) over
// JSON-RPC (state_getKeysPaged, state_queryStorageAt), writes the snapshot, then runs
// runtime/tests/try_upgrade.rs on it with this source's runtime built natively with
// `try-runtime`: every migration's and pallet's pre- and post-upgrade checks, storage versions,
// every storage item decoding, every pallet's invariants, idempotency and weight. The first run
// builds the checks (a debug build of the runtime, several minutes); later runs take seconds.
// Exits non-zero, with the check's output, when a check fails.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  console.error(`error: ${message}\nusage: node scripts/try-upgrade.mjs --rpc <http url of a node> [--at <block hash>] [--out <snapshot file>]`);
  process.exit(2);
}

const args = { rpc: null, at: null, out: path.join(os.tmpdir(), `noderr-state-${process.pid}.json`) };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in args) || process.argv[i + 1] === undefined) usage(`unknown or incomplete argument ${process.argv[i]}`);
  args[key] = process.argv[i + 1];
}
if (!args.rpc) usage('--rpc is required');
const url = args.rpc.replace(/^ws/, 'http');
if (args.at !== null && !/^0x[0-9a-fA-F]{64}$/.test(args.at)) usage(`--at ${args.at} is not a block hash (0x and 64 hex digits)`);

let id = 0;
async function call(method, params) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: (id += 1), method, params }),
    });
  } catch (e) {
    throw new Error(`cannot reach the node's RPC at ${url} (${e.cause?.code ?? e.cause?.message ?? e.message}): is the node running with --rpc-port?`);
  }
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function main() {
  const hash = args.at ?? await call('chain_getFinalizedHead', []);
  const header = await call('chain_getHeader', [hash]);
  if (!header) throw new Error(`the node does not have block ${hash}`);
  const pairs = [];
  let start = null;
  for (;;) {
    const keys = await call('state_getKeysPaged', ['0x', 1000, start, hash]);
    if (keys.length === 0) break;
    const [set] = await call('state_queryStorageAt', [keys, hash]);
    const values = new Map(set.changes);
    for (const k of keys) if (values.get(k) != null) pairs.push([k, values.get(k)]);
    start = keys[keys.length - 1];
    process.stderr.write(`\rsnapshot of block ${Number(header.number)}: ${pairs.length} keys`);
  }
  process.stderr.write('\n');
  writeFileSync(args.out, JSON.stringify({ block: Number(header.number), hash, pairs }));
  const env = {
    ...process.env,
    SKIP_WASM_BUILD: '1',
    NODERR_TRY_RUNTIME_SNAPSHOT: path.resolve(args.out),
    CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR
      || path.join(process.env.NODERR_CACHE || path.join(os.homedir(), '.cache', 'noderr'), 'target'),
  };
  const r = spawnSync('cargo', [
    'test', '--locked', '-p', 'noderr-runtime', '--features', 'try-runtime', '--test', 'try_upgrade', '--',
    '--ignored', '--exact', '--nocapture', 'a_live_chains_state_upgrades_cleanly',
  ], { cwd: repoRoot, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`cargo: ${r.error.message} (run from a shell where scripts/env.sh was sourced)`);
  process.exit(r.status ?? 1);
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
