// The ML service embedded in the node: started with the node, serving the default artifacts
// over JSON-RPC on loopback, its metrics in the node's Prometheus endpoint.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePort, httpRpc, lastBars, removeDir, runToExit, startNode, tempDir, waitFor } from './lib.mjs';

test('the node serves the registered ML models it was given, and refuses bad input', async () => {
  const dir = tempDir('ml');
  const node = await startNode({ basePath: dir });
  try {
    const health = await waitFor(async () => {
      try {
        const h = await httpRpc(node.mlUrl, 'ml_health');
        // The model store imports and loads the four registered artifacts one by one.
        return h.result?.models === 4 ? h.result : undefined;
      } catch { return undefined; }
    }, { timeoutMs: 60_000, what: 'ML service health' });
    assert.equal(health.models, 4);
    const models = (await httpRpc(node.mlUrl, 'ml_listModels')).result;
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    assert.deepEqual(Object.keys(byName).sort(), ['gaf-regime', 'msrr', 'price-transformer', 'sentiment']);
    for (const m of models) assert.match(m.hash, /^0x[0-9a-f]{64}$/);

    const price = await httpRpc(node.mlUrl, 'ml_predict', { model: byName['price-transformer'].hash, bars: lastBars(310) });
    assert.ok(price.result.volatility > 0, JSON.stringify(price));
    const regime = await httpRpc(node.mlUrl, 'ml_classifyRegime', [byName['gaf-regime'].hash, lastBars(64)]);
    assert.ok(['calming', 'steady', 'heating'].includes(regime.result.label));
    const msrr = await httpRpc(node.mlUrl, 'ml_msrr', [byName.msrr.hash, lastBars(168)]);
    assert.equal(msrr.result.p_calm + msrr.result.p_turbulent, 1_000_000);
    const mood = await httpRpc(node.mlUrl, 'ml_sentiment', [byName.sentiment.hash, 'This is a wonderful, safe and cheap ride!']);
    assert.equal(mood.result.label, 'positive', JSON.stringify(mood));

    const short = await httpRpc(node.mlUrl, 'ml_predict', { model: byName['price-transformer'].hash, bars: lastBars(50) });
    assert.equal(short.error.code, -32602);
    assert.match(short.error.message, /50 bars given, at least 310 needed/);
    const unknown = await httpRpc(node.mlUrl, 'ml_predict', { model: `0x${'00'.repeat(32)}`, bars: lastBars(310) });
    assert.equal(unknown.error.code, 4004);

    const metrics = await (await fetch(`http://127.0.0.1:${node.promPort}/metrics`)).text();
    assert.match(metrics, /noderr_ml_inference_seconds_count\{method="predict",model="0x[0-9a-f]+"[^}]*\} 1/);
    assert.match(metrics, /noderr_ml_errors_total\{kind="invalid_input",method="ml_predict"[^}]*\} 1/);
    assert.match(metrics, /noderr_ml_errors_total\{kind="unknown_model",method="ml_predict"[^}]*\} 1/);
  } finally {
    await node.stop();
    removeDir(dir);
  }
});

test('the node refuses to start when the ML service port is taken', async () => {
  const port = await freePort();
  const server = net.createServer().listen(port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const dir = tempDir('ml-port');
  try {
    const { code, stderr } = await runToExit(['--dev', `--base-path=${dir}`, `--ml-rpc-addr=127.0.0.1:${port}`, '--rpc-port=0', '--prometheus-port=0', '--port=0']);
    assert.notEqual(code, 0);
    assert.match(stderr, new RegExp(`ML service port ${port} .* is already in use.*--ml-rpc-addr`));
  } finally {
    server.close();
    removeDir(dir);
  }
});
