#!/usr/bin/env bash
# Measures the spread of honest answers: how far the quantised outputs that operators reveal on
# chain differ between separate processes and between the CPU code paths libtorch can take.
#
# Measured through the ML service the node's off-chain worker calls: one `noderr-ml serve
# --workers 1` process per run, each on a free loopback port, all sent the same JSON-RPC requests
# the worker makes (pallets/inference/src/offchain.rs, `compute`): `ml_predict`,
# `ml_classifyRegime` and `ml_msrr` with windows of the bar history as long as the worker sends
# them, `ml_sentiment` with generated market headlines. The runs:
# - pinned, twice: what every node runs (AVX2 kernels, MKL's reproducible AVX2 path);
# - default: whatever libtorch and MKL pick for this processor;
# - avx2: ATen's AVX2 kernels, MKL and oneDNN left to choose;
# - avx512: ATen's AVX-512 kernels, only where the processor has AVX-512.
# Then compares every pair of runs per model and per input (scripts/measure-spread.py) and writes
# the histograms to pallets/guardian/src/measured_spread.rs, with a summary on stdout.
#
# Usage: scripts/measure-spread.sh [WINDOWS [TEXTS]]   (bar windows, default 2000; texts for the
# text model, default 300). The services run side by side, so the whole measurement takes about
# a minute on two cores. Uses the release build of noderr-ml (scripts/run-dev.sh builds it), or
# the binary NODERR_ML_BIN names; nothing is built here. Models: the dev node's artifacts
# ($NODERR_CACHE/artifacts, scripts/default-artifacts.sh), or the directory NODERR_SPREAD_MODELS
# names. Bars: $NODERR_CACHE/data/btc_1h.csv (scripts/setup-data.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"

windows="${1:-2000}"
texts="${2:-300}"
if ! [[ "$windows" =~ ^[1-9][0-9]*$ && "$texts" =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 [WINDOWS [TEXTS]]   (positive numbers of bar windows and of texts)" >&2
	exit 2
fi
ml="${NODERR_ML_BIN:-$CARGO_TARGET_DIR/release/noderr-ml}"
models="${NODERR_SPREAD_MODELS:-$NODERR_CACHE/artifacts}"
bars="$NODERR_CACHE/data/btc_1h.csv"
out="$root/pallets/guardian/src/measured_spread.rs"

[ -x "$ml" ] || { echo "$ml: no noderr-ml binary; build it (scripts/run-dev.sh) or set NODERR_ML_BIN" >&2; exit 1; }
compgen -G "$models/*.nrm" >/dev/null || { echo "$models: no artifacts; run scripts/default-artifacts.sh" >&2; exit 1; }
[ -f "$bars" ] || { echo "$bars: no bar data; run scripts/setup-data.sh" >&2; exit 1; }
# The bars the worker sends beyond a feature model's window (FEATURE_WARMUP_BARS).
warmup="$(sed -n 's/^pub const FEATURE_WARMUP_BARS: u32 = \([0-9]*\);$/\1/p' \
	"$root/pallets/inference/src/types.rs")"
[ -n "$warmup" ] || { echo "no FEATURE_WARMUP_BARS in pallets/inference/src/types.rs" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every run uses the same binary, even if a build replaces the original meanwhile.
cp "$ml" "$work/noderr-ml"
ml="$work/noderr-ml"

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
step "Starting one ML service per run: ${runs[*]}"
# Port 0: the system picks a free loopback port, which the service prints once it listens (after
# loading the artifacts).
for run in "${runs[@]}"; do
	"$ml" serve --models "$models" --rpc-addr 127.0.0.1:0 --workers 1 --cpu-mode "${run%-[0-9]}" \
		>"$work/$run.log" 2>&1 &
	pids+=($!)
done
urls=()
for i in "${!runs[@]}"; do
	run="${runs[$i]}"
	addr=""
	for _ in $(seq 900); do
		addr="$(sed -n 's/^ML service listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/$run.log")"
		[ -n "$addr" ] && break
		if ! kill -0 "${pids[$i]}" 2>/dev/null; then
			echo "the $run service stopped:" >&2
			cat "$work/$run.log" >&2
			exit 1
		fi
		sleep 0.2
	done
	if [ -z "$addr" ] || grep -q '^refused' "$work/$run.log"; then
		echo "the $run service did not start listening with every artifact loaded:" >&2
		cat "$work/$run.log" >&2
		exit 1
	fi
	echo "$run: http://$addr (pid ${pids[$i]})"
	urls+=("$run=http://$addr")
done

# What the requests and the comparison need besides the outputs: each artifact's manifest
# (name, task, scale), and its registration: the dev genesis's (runtime/src/dev_models.json, read
# by runtime/src/genesis_config_presets.rs) or, for artifacts it does not register, the default
# registration policy's (offchain-ml/src/registration.rs). The registration gives the tolerance,
# and the model's input, which sets the method the worker calls and the number of bars it sends.
for artifact in "$models"/*.nrm; do
	"$ml" inspect "$artifact"
done >"$work/inspect.txt"
"$ml" registration --genesis "$models" >"$work/registration.json"

step "Requests: $windows bar windows per bar model and $texts texts, the same to every run"
# In the background, so that a signal stops the script (and the services) at once.
python3 "$root/scripts/measure-spread.py" query --out-dir "$work" --bars "$bars" \
	--windows "$windows" --texts "$texts" --warmup "$warmup" --inspect "$work/inspect.txt" \
	--dev-models "$root/runtime/src/dev_models.json" --registration "$work/registration.json" \
	"${urls[@]}" &
pids=("$!" "${pids[@]}")
wait "${pids[0]}"
files=()
for run in "${runs[@]}"; do
	files+=("$run=$work/$run.jsonl")
done

cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
python3 - "$work/meta.json" <<EOF
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "cpu": "${cpu:-unknown}",
    "cores": $(nproc),
    "avx512": "$avx512",
    "tool": "$("$ml" --version)",
}, open(sys.argv[1], "w"))
EOF

step "Pairwise comparison"
mkdir -p "$(dirname "$out")"
python3 "$root/scripts/measure-spread.py" compare "$out" --meta "$work/meta.json" \
	--inputs "$work/inputs.json" --inspect "$work/inspect.txt" "${files[@]}"

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
