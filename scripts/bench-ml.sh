#!/usr/bin/env bash
# Latency of the ML models at batch 1 on one thread, in one run on this machine: the Rust path
# (criterion benchmarks of noderr-ml) against the same models and inputs run with PyTorch eager
# from Python and with ONNX Runtime (the models exported to ONNX, one thread), and the feature
# pipeline against the `ta` package (pandas) and TA-Lib's C indicators; each with the ratio, and
# each model's work against one core's measured fp32 matmul peak. The sentiment encoder runs in
# f32 and in int8 (its published precision), each against the other engines' same precision; the
# int8 one also against one core's measured int8 matmul rate. Uses the published default artifacts
# (scripts/default-artifacts.sh). Installs PyTorch 2.13.0, ONNX Runtime and TA-Lib from PyPI into
# $NODERR_CACHE/torchenv on first use (about 3 GB of CUDA wheels come with PyTorch; they are not
# used).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/scripts/default-artifacts.sh" --release >/dev/null
env="$NODERR_CACHE/torchenv"
if ! "$env/bin/python" -c 'import torch, pandas, ta, tokenizers, onnx, onnxruntime, talib, vaderSentiment' 2>/dev/null; then
	step "PyTorch eager, ONNX Runtime and TA-Lib environment in $env"
	python3 -m venv "$env"
	"$env/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0 numpy pandas==3.0.* tokenizers \
		onnx==1.23.* onnxruntime==1.32.* ta-lib==0.8.*
	"$env/bin/pip" install --quiet --disable-pip-version-check --no-deps "$NODERR_CACHE/downloads/ta-0.11.0.tar.gz" \
		"$NODERR_CACHE/downloads/vaderSentiment-3.3.2.tar.gz"
fi

step "Rust: criterion benchmarks"
# The release build's packages, so that the benchmark reuses the node's build of every dependency.
(cd "$root" && cargo bench --locked "${release_packages[@]}" --bench inference)

text='{"sentiment_text": "The new driverless car service launched in our city this week, and honestly the rides have been smooth, quick and surprisingly cheap so far!!!"}'
eager() {
	"$env/bin/python" "$root/offchain-ml/python/eager_bench.py" "$NODERR_CACHE/artifacts" \
		"$NODERR_CACHE/data/btc_1h.csv" "$NODERR_CACHE/minilm" "$1" <(echo "$text") >/dev/null
}
step "Python: PyTorch eager, CPU capability pinned as on the nodes (AVX2)"
out="$NODERR_CACHE/eager-bench.json"
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2,STRICT eager "$out"
step "Python: PyTorch eager and ONNX Runtime, default CPU capability (the best this CPU has)"
out_default="$NODERR_CACHE/eager-bench-default.json"
NODERR_BENCH_ONNX=1 eager "$out_default"

step "Median latency, batch 1, one thread"
python3 - "$CARGO_TARGET_DIR/criterion" "$out" "$out_default" <<'PY'
import json, sys, os
crit, eager, default = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def rust(name):
    return json.load(open(os.path.join(crit, name, "new", "estimates.json")))["median"]["point_estimate"] / 1e9
rows = [
    ("feature pipeline (310 bars -> 60 rows)", "features_window", "features"),
    ("price Transformer, features + model", "price_end_to_end", "price_end_to_end"),
    ("GAF classifier, images + CNN", "gaf_end_to_end", "gaf_end_to_end"),
    ("sentiment f32 encoder, 32 tokens", "sentiment_f32_32_tokens", "sentiment_end_to_end"),
    ("sentiment int8 encoder (published), 32 tokens", "sentiment_32_tokens", "sentiment_int8_end_to_end"),
]
print(f"{'':50} {'Rust':>12} {'eager AVX2':>12} {'ratio':>7} {'eager best ISA':>15} {'ratio':>7} {'ONNX Runtime':>13} {'ratio':>7}")
onnx = {"price_end_to_end": "onnx_price_end_to_end", "gaf_end_to_end": "onnx_gaf_end_to_end",
        "sentiment_end_to_end": "onnx_sentiment_end_to_end", "features": "talib_features",
        "sentiment_int8_end_to_end": "onnx_int8_sentiment_end_to_end"}
for label, r, p in rows:
    a, b, c, d = rust(r), eager[p], default[p], default[onnx[p]]
    print(f"{label:50} {a*1e6:>9.1f} us {b*1e6:>9.1f} us {b/a:>6.2f}x {c*1e6:>12.1f} us {c/a:>6.2f}x {d*1e6:>10.1f} us {d/a:>6.2f}x")
print("Ratio = the other engine's time / Rust time (above 1: Rust is faster). For the feature row the")
print("ONNX Runtime column is TA-Lib's C indicators with numpy (talib_features.py), the eager columns")
print("the `ta` package on pandas; the ONNX Runtime price row computes its features with TA-Lib.")
print("Sentiment int8: Rust and eager run FBGEMM's int8 linear layers (quantized::linear_dynamic, 7-bit activations),")
print("ONNX Runtime its own dynamic quantisation (quantize_dynamic, QInt8 weights) of the exported model.")
print(f"Sentiment class probabilities: eager f32 {[round(p, 3) for p in eager['sentiment_probabilities']]}, "
      f"eager int8 {[round(p, 3) for p in eager['sentiment_int8_probabilities']]}, "
      f"ONNX Runtime int8 {[round(p, 3) for p in default['onnx_int8_sentiment_probabilities']]}")
print(f"Model only, price Transformer: Rust in the end-to-end row; eager {eager['price_model']*1e6:.1f} us (AVX2), "
      f"{default['price_model']*1e6:.1f} us (best ISA); ONNX Runtime {default['onnx_price_model']*1e6:.1f} us")
print(f"ONNX Runtime against eager, largest output difference: price {default['onnx_price_max_abs_diff']:.1e}, "
      f"GAF {default['onnx_gaf_max_abs_diff']:.1e}, sentiment {default['onnx_sentiment_max_abs_diff']:.1e}")
peak = default["matmul_peak_flops"]
print(f"FLOP limit: one core's fp32 matmul peak measured at {peak/1e9:.1f} GFLOP/s (1024x1024, torch, one thread)")
for label, r, key in [("price Transformer", "price_end_to_end", "price_model"), ("GAF CNN", "gaf_end_to_end", "gaf_model"),
                      ("sentiment f32 encoder, 32 tokens", "sentiment_f32_32_tokens", "sentiment_model")]:
    f = default["flops"][key]
    print(f"  {label:30} {f/1e6:9.2f} MFLOP: at the peak {f/peak*1e6:8.1f} us; Rust end to end {rust(r)*1e6:8.1f} us "
          f"= {f/peak/rust(r)*100:5.1f} % of the limit")
peak8 = default["int8_matmul_peak_ops"]
f = default["flops"]["sentiment_model"]
print(f"int8 limit: one core's FBGEMM int8 matmul measured at {peak8/1e9:.1f} GOP/s (1024x1024): the int8 encoder's "
      f"{f/1e6:.0f} MOP at that rate {f/peak8*1e6:.1f} us; Rust end to end {rust('sentiment_32_tokens')*1e6:.1f} us "
      f"= {f/peak8/rust('sentiment_32_tokens')*100:.1f} % of the limit")
print(f"torch {eager['torch']}, onnxruntime {default['onnxruntime']}, TA-Lib {default['talib']}, {eager['threads']} thread")
PY
