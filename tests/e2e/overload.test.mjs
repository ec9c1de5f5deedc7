// The dev node's embedded ML service flooded by callers, as a careless or hostile local client
// would: WebSocket connections each keeping calls in flight, and 10,000-call batches. Block
// production must not notice: every Aura slot during the flood has its block.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { connect, removeDir, servedModels, startNode, tempDir, waitFor } from './lib.mjs';

const CONNECTIONS = 40;
const IN_FLIGHT = 16; // the service's per-connection limit; each connection keeps this many
const FLOOD_MS = 40_000; // more than six slots

let node;
let api;
let basePath;

before(async () => {
  basePath = tempDir('noderr-e2e-overload-');
  node = await startNode({ basePath });
  api = await connect(node);
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  removeDir(basePath);
});

/// One connection that keeps `IN_FLIGHT` sentiment calls in flight until `until`.
function flood(url, model, until, counts) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let id = 0;
    const send = () => {
      if (Date.now() >= until) return;
      ws.send(JSON.stringify({
        jsonrpc: '2.0', id: id++, method: 'ml_sentiment',
        params: { model, text: `markets rally as traders cheer result number ${id}` },
      }));
    };
    ws.on('open', () => { for (let i = 0; i < IN_FLIGHT; i++) send(); });
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.result) counts.ok++;
      else if (msg.error?.code === 5003) counts.busy++;
      else if (msg.error?.code === 5004) counts.deadline++;
      else counts.other++;
      if (Date.now() < until) send();
      else ws.close();
    });
    ws.on('close', resolve);
    ws.on('error', () => { counts.other++; resolve(); });
  });
}

async function hugeBatch() {
  const calls = Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ml_health', params: [] }));
  const res = await fetch(node.mlUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(calls),
  });
  return res.text();
}

test('a flooded ML service refuses what it cannot take and no Aura slot is missed', async () => {
  const hashes = await waitFor(async () => {
    const served = await servedModels(node);
    return served.length >= 4 ? served : null;
  }, { timeoutMs: 120_000, what: 'the four default models served' });
  const models = (await (await fetch(node.mlUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ml_listModels', params: [] }),
  })).json()).result;
  const sentiment = models.find((m) => m.name === 'sentiment').hash;
  assert.ok(hashes.includes(sentiment));
  await waitFor(async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 2,
    { timeoutMs: 60_000, what: 'block #2' });

  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  const until = Date.now() + FLOOD_MS;
  const counts = { ok: 0, busy: 0, deadline: 0, other: 0 };
  const url = node.mlUrl.replace('http://', 'ws://');
  const batches = [];
  const batchTimer = setInterval(() => batches.push(hugeBatch()), 5_000);
  await Promise.all(Array.from({ length: CONNECTIONS }, () => flood(url, sentiment, until, counts)));
  clearInterval(batchTimer);
  const batchAnswers = await Promise.all(batches);
  const end = (await api.rpc.chain.getHeader()).number.toNumber();
  console.log(`# flood of ${FLOOD_MS / 1000} s over ${CONNECTIONS} connections: ${JSON.stringify(counts)}; ` +
    `${batchAnswers.length} batches of 10,000 refused; blocks #${start}..#${end}`);

  assert.ok(counts.ok > 0, 'calls were answered during the flood');
  assert.ok(counts.busy > 0, 'the overflow was refused as busy');
  assert.equal(counts.other, 0, 'no other errors');
  for (const answer of batchAnswers) assert.match(answer, /batch request was too large/);

  const slots = [];
  for (let n = start; n <= end; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    slots.push((await at.query.aura.currentSlot()).toNumber());
  }
  assert.ok(end - start >= 5, `only ${end - start} blocks in ${FLOOD_MS / 1000} s`);
  for (let i = 1; i < slots.length; i++) {
    assert.equal(slots[i] - slots[i - 1], 1, `slot missed between blocks #${start + i - 1} and #${start + i}`);
  }
  // The service still answers normally.
  const health = await (await fetch(node.mlUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ml_health', params: [] }),
  })).json();
  assert.equal(health.result.status, 'ok');
});
