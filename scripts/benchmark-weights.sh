#!/usr/bin/env bash
# Runs the FRAME benchmarks of the project's pallets and writes their weights.rs files.
# Builds the node with `--features runtime-benchmarks` into its own target directory so the
# normal build stays lean and cached. Usage: scripts/benchmark-weights.sh [pallet ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bench_target="$NODERR_CACHE/target-bench"
CARGO_TARGET_DIR="$bench_target" cargo build --locked --release -p noderr-node --features runtime-benchmarks
node="$bench_target/release/noderr-node"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_staking_tiers pallet_validator_set)
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
		--template scripts/weight-template.hbs \
		--output "$dir/src/weights.rs"
done
