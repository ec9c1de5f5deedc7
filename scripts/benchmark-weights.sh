#!/usr/bin/env bash
# Runs the FRAME benchmarks of the project's pallets and writes their weights.rs files.
# Builds the node with `--features runtime-benchmarks` in the shared target directory: cargo keeps
# the feature-flagged crates beside the normal ones, so the normal build stays lean and cached and
# the benchmark build recompiles only what the feature touches (wasmtime, libp2p and the rest are
# shared). Usage: scripts/benchmark-weights.sh [pallet ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bench_target="${NODERR_BENCH_TARGET:-$CARGO_TARGET_DIR}"
# The workspace hint would also be applied to the wasm test runtime that the benchmarking CLI
# builds for itself, which is not a member of this workspace and then fails to build.
CARGO_TARGET_DIR="$bench_target" env -u WASM_BUILD_WORKSPACE_HINT \
	cargo build --locked --release -p noderr-node --features runtime-benchmarks
node="$bench_target/release/noderr-node"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_staking_tiers pallet_validator_set)
# Median slopes rather than least squares, for time and for proof size: least squares fails
# outright on series that are exactly linear (apply_slash's reads and writes, the guardian hook's
# proof size), and is more sensitive to outliers.
for pallet in "${pallets[@]}"; do
	dir="pallets/$(echo "${pallet#pallet_}" | tr _ -)"
	echo "==> $pallet -> $dir/src/weights.rs"
	"$node" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--wasm-execution compiled \
		--steps "${STEPS:-20}" \
		--repeat "${REPEAT:-10}" \
		--heap-pages 4096 \
		--output-analysis median-slopes \
		--output-pov-analysis median-slopes \
		--template scripts/weight-template.hbs \
		--output "$dir/src/weights.rs"
done
