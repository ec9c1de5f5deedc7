"""The same models with PyTorch eager from Python: the baseline of the latency comparison.

Loads the Noderr artifacts (our container: magic, manifest, safetensors weights), rebuilds each
architecture in torch.nn.functional, checks that it reproduces the Rust outputs on the same
input, and times batch-1 inference on one thread under torch.inference_mode():
- price: features (the `ta`-based pipeline of reference_features.py, on the same 310 bars),
  normalisation, Transformer;
- GAF: Gramian Angular Field images in numpy, CNN;
- sentiment: Hugging Face `tokenizers` on the model's tokenizer.json, MiniLM encoder, head, at
  32 tokens.
Then the engine a Python user would pick for CPU inference: the same models exported to ONNX
and run by ONNX Runtime (one thread, sequential, all graph optimisations), checked against the
eager outputs, with the features from TA-Lib's C indicators (talib_features.py) for the price
model; and the work per call in floating-point operations (torch's FLOP counter on the eager
forward) against one core's measured fp32 matmul peak.
Usage: eager_bench.py ARTIFACT_DIR BARS.csv MINILM_DIR OUT.json [expected.json]
Prints and writes median seconds per call.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import reference_features  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def load(path):
    data = open(path, "rb").read()
    assert data[:8] == b"NODERRML"
    n = struct.unpack("<Q", data[12:20])[0]
    manifest = json.loads(data[20:20 + n])
    st = data[20 + n:]
    hn = struct.unpack("<Q", st[:8])[0]
    header = json.loads(st[8:8 + hn])
    body = st[8 + hn:]
    weights = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        weights[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").copy()).view(meta["shape"])
    return manifest, weights


def median_time(fn, seconds=3.0):
    for _ in range(20):
        fn()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 50:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def price_forward(w, cfg, x):
    d, heads = cfg["d_model"], cfg["heads"]
    h = F.linear(x, w["input.weight"], w["input.bias"]) + w["position"]
    for i in range(cfg["layers"]):
        p = f"block{i}."
        b, t, _ = h.shape
        y = F.layer_norm(h, [d], w[p + "ln1.weight"], w[p + "ln1.bias"])
        qkv = F.linear(y, w[p + "qkv.weight"], w[p + "qkv.bias"]).view(b, t, 3, heads, d // heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        a = a.transpose(1, 2).contiguous().view(b, t, d)
        h = h + F.linear(a, w[p + "out.weight"], w[p + "out.bias"])
        y = F.layer_norm(h, [d], w[p + "ln2.weight"], w[p + "ln2.bias"])
        y = F.linear(F.gelu(F.linear(y, w[p + "ff1.weight"], w[p + "ff1.bias"])), w[p + "ff2.weight"], w[p + "ff2.bias"])
        h = h + y
    h = F.layer_norm(h, [d], w["norm.weight"], w["norm.bias"])
    out = F.linear(torch.cat([h[:, -1], h.mean(1)], 1), w["head.weight"], w["head.bias"])
    return torch.stack([out[:, 0], out[:, 1].clamp(-6, 4), out[:, 2]], 1)


def gaf_images(closes):
    lo, hi = closes.min(), closes.max()
    x = np.clip((2 * closes - hi - lo) / (hi - lo), -1, 1) if hi > lo else np.zeros_like(closes)
    s = np.sqrt(np.maximum(1 - x * x, 0))
    gasf = np.outer(x, x) - np.outer(s, s)
    gadf = np.outer(s, x) - np.outer(x, s)
    return torch.from_numpy(np.stack([gasf, gadf]).astype(np.float32))


def log_ratio(num, den):
    if num > 0 and den > 0:
        return math.log(num / den)
    return 0.0 if num <= 0 and den <= 0 else (4.0 if num > 0 else -4.0)


def volatility_profile(closes):
    """models::gaf::volatility_profile: ln(rms of each run of 9 returns / rms of all 63), then
    ln(sd of all / sd of the last 24), each within +-4."""
    r = np.log(closes[1:] / closes[:-1])
    rms = lambda v: math.sqrt(float(np.mean(v * v)))
    out = [log_ratio(rms(r[k * 9:(k + 1) * 9]), rms(r)) for k in range(7)]
    out.append(log_ratio(float(np.std(r)), float(np.std(r[-24:]))))
    return np.clip(np.array(out), -4, 4).astype(np.float32)


def gaf_input(closes):
    """One row: the two GAF images flattened, then the volatility profile."""
    return torch.cat([gaf_images(closes).flatten(), torch.from_numpy(volatility_profile(closes))]).unsqueeze(0)


def gaf_forward(w, x):
    n = 2 * 64 * 64
    h = x[:, :n].view(-1, 2, 64, 64)
    for i in range(3):
        h = F.max_pool2d(F.relu(F.conv2d(h, w[f"conv{i}.weight"], w[f"conv{i}.bias"], padding=1)), 2)
    # The positional head reads the whole last map and the profile; the legacy one its
    # channels' averages.
    if w["head.weight"].shape[1] == h[0].numel() + x.shape[1] - n:
        pooled = torch.cat([h.flatten(1), x[:, n:]], 1)
    else:
        pooled = h.mean((2, 3))
    return F.linear(pooled, w["head.weight"], w["head.bias"])


def int8_linears(w):
    """The encoder's linear layers in int8 as the Rust path runs them (src/int8_linear.cpp):
    weights per output channel, symmetric; activations per call with 7 bits (reduce_range);
    FBGEMM's integer kernels."""
    torch.backends.quantized.engine = "fbgemm"
    packs = {}
    for name, t in w.items():
        if name.startswith("encoder.") and name.endswith(".weight") and t.dim() == 2:
            scales = (t.abs().amax(1).clamp_min(1e-12) / 127.0).double()
            q = torch.quantize_per_channel(t, scales, torch.zeros(t.shape[0], dtype=torch.long), 0, torch.qint8)
            packs[name[:-len(".weight")]] = torch.ops.quantized.linear_prepack(q, w[name[:-len("weight")] + "bias"])

    def lin(x, p):
        return torch.ops.quantized.linear_dynamic(x.contiguous(), packs[p], True)
    return lin


def minilm_forward(w, ids, int8=None):
    t = ids.shape[1]
    h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t] + w["embeddings.token_type_embeddings.weight"][0]
    ln = lambda x, p: F.layer_norm(x, [384], w[p + ".weight"], w[p + ".bias"], 1e-12)  # noqa: E731
    lin = int8 or (lambda x, p: F.linear(x, w[p + ".weight"], w[p + ".bias"]))  # noqa: E731
    h = ln(h, "embeddings.LayerNorm")
    b = ids.shape[0]
    for i in range(6):
        p = f"encoder.layer.{i}."
        split = lambda x: x.view(b, t, 12, 32).transpose(1, 2)  # noqa: E731
        q, k, v = (split(lin(h, p + "attention.self." + n)) for n in ("query", "key", "value"))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).contiguous().view(b, t, 384)
        h = ln(lin(a, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        f = F.gelu(lin(h, p + "intermediate.dense"))
        h = ln(lin(f, p + "output.dense") + h, p + "output.LayerNorm")
    pooled = h.mean(1)
    pooled = pooled / pooled.norm(dim=1, keepdim=True).clamp_min(1e-12)
    if w["head.weight"].shape[1] > 384:
        # The head also reads the text's lexicon features (set per text by the caller; a
        # constant of the exported ONNX graph).
        pooled = torch.cat([pooled, w["_lexicon_features"].expand(b, -1)], 1)
    return F.linear(pooled, w["head.weight"], w["head.bias"])


NEGATIONS = {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot",
             "without", "isnt", "isn't", "dont", "don't", "doesnt", "doesn't", "wasnt", "wasn't", "aint"}


def intensity_features(text):
    """VADER's compound score and positive, negative and neutral shares before rounding: the
    intensity rules' last four features (offchain-ml/src/pipeline/intensity.rs computes the same
    doubles, tests/intensity_reference.rs checks it)."""
    from vaderSentiment import vaderSentiment
    global _analyzer
    if "_analyzer" not in globals():
        vaderSentiment.round = lambda value, places: value
        _analyzer = vaderSentiment.SentimentIntensityAnalyzer()
    s = _analyzer.polarity_scores(text)
    return [s["compound"], s["pos"], s["neg"], s["neu"]]


def lexicon_features(lexicon, text, rules="negation"):
    """The sentiment head's lexicon features, as offchain-ml/src/pipeline/lexicon.rs computes them."""
    if rules == "intensity":
        return lexicon_features(lexicon, text) + intensity_features(text)
    punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    total_sum, positive, negative, plain, since = 0.0, 0.0, 0.0, 0, None
    for token in text.split():
        since = None if since is None else since + 1
        lower = token.lower()
        word = lower.strip(punct)
        v = lexicon.get(lower, lexicon.get(word))
        if v is None:
            plain += 1
        else:
            if since is not None and since <= 3:
                v *= -0.74
            total_sum += v
            if v > 0:
                positive += v
            else:
                negative -= v
        if word in NEGATIONS or word.endswith("n't"):
            since = 0
    total = positive + negative + plain
    share = (lambda x: x / total) if total > 0 else (lambda x: 0.0)
    return [total_sum / math.sqrt(total_sum * total_sum + 15.0), share(positive), share(negative)]


class _Fn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def ort_session(fn, example, path):
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(_Fn(fn), (example,), path, input_names=["x"], output_names=["y"],
                          opset_version=17, dynamo=False)
    return ort_load(path)


def ort_load(path):
    """An ONNX Runtime session on one thread, all graph optimisations."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def flops(fn, example):
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn(example)
    return counter.get_total_flops()


def matmul_peak():
    """fp32 FLOP/s of one core on a large matmul: the most this core does with torch's kernels."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    t = median_time(lambda: a @ b, seconds=2.0)
    return 2 * 1024 ** 3 / t


def int8_matmul_peak():
    """Operations per second of one core on a large int8 matmul (FBGEMM, the kernels the int8
    encoder runs)."""
    torch.backends.quantized.engine = "fbgemm"
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    q = torch.quantize_per_channel(b, (b.abs().amax(1) / 127.0).double(), torch.zeros(1024, dtype=torch.long), 0, torch.qint8)
    packed = torch.ops.quantized.linear_prepack(q, torch.zeros(1024))
    t = median_time(lambda: torch.ops.quantized.linear_dynamic(a, packed, True), seconds=2.0)
    return 2 * 1024 ** 3 / t


def constants_to_initializers(src, dst):
    import onnx
    model = onnx.load(src)
    graph = model.graph
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            tensor = node.attribute[0].t
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    onnx.save(model, dst)


def onnx_and_talib(results, w, cfg, mean, std, window, x, wg, closes, ws, tok, text):
    import tempfile

    import onnxruntime
    import talib_features
    import talib

    results["onnxruntime"] = onnxruntime.__version__
    results["talib"] = talib.__version__
    cols = [window[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")]
    results["talib_features"] = median_time(lambda: talib_features.compute(*cols))
    tmp = tempfile.mkdtemp()

    price = ort_session(lambda t: price_forward(w, cfg, t), x, os.path.join(tmp, "price.onnx"))
    xn = x.numpy()
    with torch.inference_mode():
        ref = price_forward(w, cfg, x).numpy()
    results["onnx_price_max_abs_diff"] = float(np.abs(price.run(None, {"x": xn})[0] - ref).max())
    results["onnx_price_model"] = median_time(lambda: price.run(None, {"x": xn}))

    def onnx_price_end_to_end():
        feats = talib_features.compute(*cols)[-60:]
        z = np.clip((np.nan_to_num(feats) - mean) / std, -10, 10).astype(np.float32)[None]
        return price.run(None, {"x": z})

    results["onnx_price_end_to_end"] = median_time(onnx_price_end_to_end)

    img = gaf_input(closes)
    gaf = ort_session(lambda t: F.softmax(gaf_forward(wg, t), 1), img, os.path.join(tmp, "gaf.onnx"))
    results["onnx_gaf_max_abs_diff"] = float(np.abs(
        gaf.run(None, {"x": img.numpy()})[0] - F.softmax(gaf_forward(wg, img), 1).detach().numpy()).max())
    results["onnx_gaf_end_to_end"] = median_time(
        lambda: gaf.run(None, {"x": gaf_input(closes).numpy()}))

    ids = torch.tensor([tok.encode(text).ids])
    sent = ort_session(lambda t: F.softmax(minilm_forward(ws, t), 1), ids, os.path.join(tmp, "sentiment.onnx"))
    results["onnx_sentiment_max_abs_diff"] = float(np.abs(
        sent.run(None, {"x": ids.numpy()})[0] - F.softmax(minilm_forward(ws, ids), 1).detach().numpy()).max())
    results["onnx_sentiment_end_to_end"] = median_time(
        lambda: sent.run(None, {"x": np.array([tok.encode(text).ids], dtype=np.int64)}))
    # ONNX Runtime's own int8 path: dynamic quantisation of the exported model's weights. The
    # exporter writes the weights as Constant nodes, which the quantiser skips: move them into
    # initializers first.
    from onnxruntime.quantization import QuantType, quantize_dynamic
    constants_to_initializers(os.path.join(tmp, "sentiment.onnx"), os.path.join(tmp, "sentiment-init.onnx"))
    quantize_dynamic(os.path.join(tmp, "sentiment-init.onnx"), os.path.join(tmp, "sentiment-int8.onnx"),
                     weight_type=QuantType.QInt8)
    import onnx
    quantized_ops = sum(1 for n in onnx.load(os.path.join(tmp, "sentiment-int8.onnx")).graph.node
                        if n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul", "DynamicQuantizeLinear"))
    assert quantized_ops > 0, "ONNX Runtime's quantiser left the model in f32"
    results["onnx_int8_quantized_ops"] = quantized_ops
    sent8 = ort_load(os.path.join(tmp, "sentiment-int8.onnx"))
    results["onnx_int8_sentiment_probabilities"] = [float(p) for p in sent8.run(None, {"x": ids.numpy()})[0][0]]
    results["onnx_int8_sentiment_end_to_end"] = median_time(
        lambda: sent8.run(None, {"x": np.array([tok.encode(text).ids], dtype=np.int64)}))

    results["flops"] = {
        "price_model": flops(lambda t: price_forward(w, cfg, t), x),
        "gaf_model": flops(lambda t: gaf_forward(wg, t), img),
        "sentiment_model": flops(lambda t: minilm_forward(ws, t), ids),
    }
    results["matmul_peak_flops"] = matmul_peak()
    results["int8_matmul_peak_ops"] = int8_matmul_peak()


def main():
    art_dir, bars_path, minilm_dir, out_path = sys.argv[1:5]
    expected = json.load(open(sys.argv[5])) if len(sys.argv) > 5 else {}
    bars = pd.read_csv(bars_path)
    window = bars.iloc[-310:].reset_index(drop=True)
    results = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    manifest, w = load(os.path.join(art_dir, "price-transformer.nrm"))
    cfg = manifest["params"]["config"]
    mean = np.array(manifest["stats"]["mean"])
    std = np.array(manifest["stats"]["std"])

    def price_end_to_end():
        feats = reference_features.compute(window).to_numpy()[-60:]
        x = torch.from_numpy(np.clip((feats - mean) / std, -10, 10).astype(np.float32)).unsqueeze(0)
        with torch.inference_mode():
            return price_forward(w, cfg, x)

    feats = reference_features.compute(window).to_numpy()[-60:]
    x = torch.from_numpy(np.clip((feats - mean) / std, -10, 10).astype(np.float32)).unsqueeze(0)

    def price_model_only():
        with torch.inference_mode():
            return price_forward(w, cfg, x)

    out = price_end_to_end()[0]
    results["price_outputs"] = [float(out[0]) / 100, math.exp(float(out[1])) / 100]
    results["features"] = median_time(lambda: reference_features.compute(window))
    results["price_model"] = median_time(price_model_only)
    results["price_end_to_end"] = median_time(price_end_to_end)

    manifest, wg = load(os.path.join(art_dir, "gaf-regime.nrm"))
    closes = bars["close"].to_numpy()[-64:]

    def gaf_end_to_end():
        with torch.inference_mode():
            return F.softmax(gaf_forward(wg, gaf_input(closes)), 1)

    results["gaf_probabilities"] = [float(p) for p in gaf_end_to_end()[0]]
    results["gaf_end_to_end"] = median_time(gaf_end_to_end)

    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(minilm_dir, "tokenizer.json"))
    tok.enable_truncation(128)
    tok.no_padding()
    manifest, ws = load(os.path.join(art_dir, "sentiment.nrm"))
    text = expected.get("sentiment_text", "")
    results["sentiment_tokens"] = len(tok.encode(text).ids)

    lexicon = dict(manifest["params"].get("lexicon", []))
    rules = manifest["params"].get("lexicon_rules", "negation")

    def set_lexicon_features():
        ws["_lexicon_features"] = torch.tensor([lexicon_features(lexicon, text, rules)], dtype=torch.float32)

    set_lexicon_features()

    def sentiment_end_to_end():
        set_lexicon_features()
        ids = torch.tensor([tok.encode(text).ids])
        with torch.inference_mode():
            return F.softmax(minilm_forward(ws, ids), 1)

    results["sentiment_probabilities"] = [float(p) for p in sentiment_end_to_end()[0]]
    results["sentiment_end_to_end"] = median_time(sentiment_end_to_end)
    int8 = int8_linears(ws)

    def sentiment_int8_end_to_end():
        set_lexicon_features()
        ids = torch.tensor([tok.encode(text).ids])
        with torch.inference_mode():
            return F.softmax(minilm_forward(ws, ids, int8), 1)

    results["sentiment_int8_probabilities"] = [float(p) for p in sentiment_int8_end_to_end()[0]]
    results["sentiment_int8_end_to_end"] = median_time(sentiment_int8_end_to_end)

    if os.environ.get("NODERR_BENCH_ONNX") == "1":
        onnx_and_talib(results, w, cfg, mean, std, window, x, wg, closes, ws, tok, text)
    json.dump(results, open(out_path, "w"), indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
