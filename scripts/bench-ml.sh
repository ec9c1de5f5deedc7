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

step "Python: PyTorch eager"
out="$NODERR_CACHE/eager-bench.json"
"$env/bin/python" "$root/offchain-ml/python/eager_bench.py" "$NODERR_CACHE/artifacts" \
	"$NODERR_CACHE/data/btc_1h.csv" "$NODERR_CACHE/minilm" "$out" \
	<(printf '{"sentiment_text": "%s"}' "The new driverless car service launched in our city this week, and honestly the rides have been smooth, quick and surprisingly cheap so far!!!") >/dev/null

step "Median latency, batch 1, one thread"
python3 - "$CARGO_TARGET_DIR/criterion" "$out" <<'PY'
import json, sys, os
crit, eager = sys.argv[1], json.load(open(sys.argv[2]))
def rust(name):
    return json.load(open(os.path.join(crit, name, "new", "estimates.json")))["median"]["point_estimate"] / 1e9
rows = [
    ("feature pipeline (160 bars -> 60 rows)", "features_window", "features"),
    ("price Transformer, features + model", "price_end_to_end", "price_end_to_end"),
    ("GAF classifier, images + CNN", "gaf_end_to_end", "gaf_end_to_end"),
    ("sentiment, 32 tokens, tokenizer + encoder + head", "sentiment_32_tokens", "sentiment_end_to_end"),
]
print(f"{'':50} {'Rust (tch)':>12} {'PyTorch eager':>14} {'ratio':>7}")
for label, r, p in rows:
    a, b = rust(r), eager[p]
    print(f"{label:50} {a*1e6:>9.1f} us {b*1e6:>11.1f} us {b/a:>6.1f}x")
print(f"(PyTorch eager model only, price Transformer: {eager['price_model']*1e6:.1f} us; torch {eager['torch']}, {eager['threads']} thread)")
PY
