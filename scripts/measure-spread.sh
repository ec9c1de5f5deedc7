#!/usr/bin/env bash
# Measures the spread of honest answers: how far the quantised outputs that operators reveal on
# chain differ between separate processes and between the CPU code paths libtorch can take.
#
# Runs `noderr-ml check` on the same bar windows (and the fixed texts `check` classifies for the
# sentiment model) once per run, each run its own process, on one thread:
# - pinned, twice: what every node runs (AVX2 kernels, MKL's reproducible AVX2 path);
# - default: whatever libtorch and MKL pick for this processor;
# - avx2: ATen's AVX2 kernels, MKL and oneDNN left to choose;
# - avx512: ATen's AVX-512 kernels, only where the processor has AVX-512.
# Then compares every pair of runs per model and per input (scripts/measure-spread.py) and writes
# the histograms to pallets/guardian/src/measured_spread.rs, with a summary on stdout.
#
# Usage: scripts/measure-spread.sh [WINDOWS]   (bar windows per run, default 2000: about 25 s per
# run on one core). Uses the release build of noderr-ml (scripts/run-dev.sh builds it), or the
# binary NODERR_ML_BIN names; nothing is built here. Models: the dev node's artifacts
# ($NODERR_CACHE/artifacts, scripts/default-artifacts.sh), or the directory NODERR_SPREAD_MODELS
# names. Bars: $NODERR_CACHE/data/btc_1h.csv (scripts/setup-data.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

windows="${1:-2000}"
if ! [[ "$windows" =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 [WINDOWS]   (a positive number of bar windows per run)" >&2
	exit 2
fi
ml="${NODERR_ML_BIN:-$CARGO_TARGET_DIR/release/noderr-ml}"
models="${NODERR_SPREAD_MODELS:-$NODERR_CACHE/artifacts}"
bars="$NODERR_CACHE/data/btc_1h.csv"
out="$root/pallets/guardian/src/measured_spread.rs"

[ -x "$ml" ] || { echo "$ml: no noderr-ml binary; build it (scripts/run-dev.sh) or set NODERR_ML_BIN" >&2; exit 1; }
compgen -G "$models/*.nrm" >/dev/null || { echo "$models: no artifacts; run scripts/default-artifacts.sh" >&2; exit 1; }
[ -f "$bars" ] || { echo "$bars: no bar data; run scripts/setup-data.sh" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The runs, in order; two pinned runs show whether one code path is reproducible across
# processes. ATen's AVX-512 kernels need the same extensions as runtime::has_avx512.
runs=(pinned-1 pinned-2 default avx2)
avx512=no
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
	grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
	avx512=yes
	runs+=(avx512)
fi

started=$SECONDS
step "noderr-ml check: $windows windows per run, runs: ${runs[*]}"
files=()
for run in "${runs[@]}"; do
	mode="${run%-[0-9]}"
	t=$SECONDS
	"$ml" check --models "$models" --bars "$bars" --windows "$windows" --cpu-mode "$mode" \
		>"$work/$run.jsonl"
	echo "$run: $((SECONDS - t)) s"
	files+=("$run=$work/$run.jsonl")
done

# What the comparison needs besides the outputs: each artifact's manifest (name, task, fields,
# scale), the tolerances the dev genesis registers (runtime/src/dev_models.json, read by
# runtime/src/genesis_config_presets.rs) and, for artifacts it does not register, the default
# registration policy (offchain-ml/src/registration.rs).
for artifact in "$models"/*.nrm; do
	"$ml" inspect "$artifact"
done >"$work/inspect.txt"
"$ml" registration --genesis "$models" >"$work/registration.json"
cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
python3 - "$work/meta.json" <<EOF
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "cpu": "${cpu:-unknown}",
    "cores": $(nproc),
    "avx512": "$avx512",
    "windows": $windows,
    "bars": $(($(wc -l <"$bars") - 1)),
    "tool": "$("$ml" --version)",
}, open(sys.argv[1], "w"))
EOF

step "Pairwise comparison"
mkdir -p "$(dirname "$out")"
python3 "$root/scripts/measure-spread.py" "$out" --meta "$work/meta.json" \
	--inspect "$work/inspect.txt" --dev-models "$root/runtime/src/dev_models.json" \
	--registration "$work/registration.json" "${files[@]}"

# The generated file is laid out the way rustfmt would; format it anyway where rustfmt is
# installed (it reads the repository's rustfmt.toml). It must build on its own, without std or
# alloc, under the pallets' lints.
if command -v rustfmt >/dev/null; then
	(cd "$root" && rustfmt --edition 2021 "$out")
fi
if command -v rustc >/dev/null; then
	cat >"$work/check.rs" <<EOF
//! Build check of the generated file.
#![no_std]
#![deny(missing_docs)]
#[path = "$out"]
pub mod measured_spread;
EOF
	(cd "$root" && rustc --edition 2021 --crate-type lib --emit=metadata -o "$work/check.rmeta" \
		"$work/check.rs")
fi
echo
echo "Wrote $out ($((SECONDS - started)) s)."
