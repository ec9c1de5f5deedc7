#!/usr/bin/env bash
# Sets everything up and runs every test: pallet unit tests (no node, no wasm), the ML module's
# tests (the published default artifacts against the dev genesis and their golden outputs under
# every CPU code path), runtime tests, the release node build, the chain-spec check and the
# end-to-end tests with polkadot.js against the real node. Prints the time of each step at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

timings=()
step_start=0
step_name=""
# Starts a timed step (and ends the previous one).
timed() {
	end_step
	step_name="$*"
	step_start=$(date +%s)
	step "$*"
}
end_step() {
	if [ -n "$step_name" ]; then
		timings+=("$(printf '%6d s  %s' $(($(date +%s) - step_start)) "$step_name")")
	fi
	step_name=""
}
report() {
	end_step
	printf '\n==> time per step\n'
	printf '%s\n' "${timings[@]}"
}
trap report EXIT

timed "setup (system packages, toolchain, polkadot.js, libtorch, data)"
scripts/setup.sh

timed "pallet unit tests and benchmark tests (no node, no wasm runtime)"
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-validator-set -p pallet-staking-tiers -p pallet-model-registry -p pallet-inference -p pallet-beacon \
	--features runtime-benchmarks

timed "ML module: the published default artifacts, checked against the dev genesis"
scripts/default-artifacts.sh

timed "ML module: features against the ta package, artifacts, golden outputs, the JSON-RPC service"
cargo test --locked -p noderr-ml
# The golden-output spread per model and CPU code path, printed for the record.
cargo test --locked -p noderr-ml --test golden -- --nocapture outputs_match 2>&1 | grep '^golden' || true

# One release build serves the runtime's tests and the node: the same dependency tree, with the
# same features, compiled once.
timed "runtime tests (release, sharing the node's build)"
cargo test --locked --release -p noderr-runtime -p noderr-node

timed "release node build"
cargo build --locked --release -p noderr-node

timed "committed chain specs match the runtime"
scripts/chain-specs.sh --check

timed "end-to-end tests: release node + polkadot.js"
(cd tests/e2e && npm test)
