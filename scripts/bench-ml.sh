#!/usr/bin/env bash
# Latency of the ML models at batch 1 on one thread: the Rust path (criterion benchmarks of
# noderr-ml) against the same models and inputs run with PyTorch eager from Python, in one run
# on this machine, with the ratio. Needs the default artifacts (scripts/train-models.sh).
# Installs PyTorch 2.13.0 from PyPI into $NODERR_CACHE/torchenv on first use (about 3 GB of
# CUDA wheels come with it; they are not used).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/scripts/train-models.sh"
env="$NODERR_CACHE/torchenv"
if ! "$env/bin/python" -c 'import torch, pandas, ta, tokenizers' 2>/dev/null; then
	step "PyTorch eager environment in $env"
	python3 -m venv "$env"
	"$env/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0 numpy pandas==3.0.* tokenizers
	"$env/bin/pip" install --quiet --disable-pip-version-check --no-deps "$NODERR_CACHE/downloads/ta-0.11.0.tar.gz"
fi

step "Rust: criterion benchmarks"
(cd "$root" && cargo bench -p noderr-ml --bench inference)

text='{"sentiment_text": "The new driverless car service launched in our city this week, and honestly the rides have been smooth, quick and surprisingly cheap so far!!!"}'
eager() {
	"$env/bin/python" "$root/offchain-ml/python/eager_bench.py" "$NODERR_CACHE/artifacts" \
		"$NODERR_CACHE/data/btc_1h.csv" "$NODERR_CACHE/minilm" "$1" <(echo "$text") >/dev/null
}
step "Python: PyTorch eager, CPU capability pinned as on the nodes (AVX2)"
out="$NODERR_CACHE/eager-bench.json"
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2,STRICT eager "$out"
step "Python: PyTorch eager, default CPU capability (the best this CPU has)"
out_default="$NODERR_CACHE/eager-bench-default.json"
eager "$out_default"

step "Median latency, batch 1, one thread"
python3 - "$CARGO_TARGET_DIR/criterion" "$out" "$out_default" <<'PY'
import json, sys, os
crit, eager, default = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def rust(name):
    return json.load(open(os.path.join(crit, name, "new", "estimates.json")))["median"]["point_estimate"] / 1e9
rows = [
    ("feature pipeline (160 bars -> 60 rows)", "features_window", "features"),
    ("price Transformer, features + model", "price_end_to_end", "price_end_to_end"),
    ("GAF classifier, images + CNN", "gaf_end_to_end", "gaf_end_to_end"),
    ("sentiment, 32 tokens, tokenizer + encoder + head", "sentiment_32_tokens", "sentiment_end_to_end"),
]
print(f"{'':50} {'Rust (tch)':>12} {'eager AVX2':>12} {'ratio':>7} {'eager best ISA':>15} {'ratio':>7}")
for label, r, p in rows:
    a, b, c = rust(r), eager[p], default[p]
    print(f"{label:50} {a*1e6:>9.1f} us {b*1e6:>9.1f} us {b/a:>6.2f}x {c*1e6:>12.1f} us {c/a:>6.2f}x")
print(f"PyTorch eager, price Transformer model only: {eager['price_model']*1e6:.1f} us (AVX2), {default['price_model']*1e6:.1f} us (best ISA); torch {eager['torch']}, {eager['threads']} thread")
print("Ratio = PyTorch eager time / Rust time (above 1: Rust is faster).")
PY
