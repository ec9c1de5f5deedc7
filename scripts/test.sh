#!/usr/bin/env bash
# Sets everything up and runs every test: pallet unit tests (no node, no wasm), the ML module's
# tests (the published default artifacts against the dev genesis and their golden outputs under
# every CPU code path), runtime tests (among them fuzzed sequences of extrinsics), the release
# node, the chain-spec check, the end-to-end tests with polkadot.js against the real node and a
# bounded cargo-fuzz run. Prints the time of each step at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

suite_start=$(date +%s)
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
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-validator-set -p pallet-staking-tiers -p pallet-model-registry -p pallet-inference -p pallet-beacon -p pallet-guardian \
	--features runtime-benchmarks

# One release build serves the ML module's tests, the runtime's tests and the node: one
# dependency tree with one set of features, compiled once (the same packages are named in every
# cargo command below, so none rebuilds anything).
release_packages=(-p noderr-ml -p noderr-runtime -p noderr-node)
timed "release build: the node, the ML module and the runtime, with their tests"
cargo build --locked --release --bins --tests "${release_packages[@]}"
export NODERR_ML_BIN="$CARGO_TARGET_DIR/release/noderr-ml"

timed "ML module: the published default artifacts, checked against the dev genesis"
scripts/default-artifacts.sh

timed "ML module, runtime: features against the ta package, artifacts, golden outputs, the JSON-RPC service, genesis presets"
cargo test --locked --release "${release_packages[@]}" -- --skip outputs_match_the_golden
# The golden outputs under every CPU code path, with the spread per model printed.
cargo test --locked --release "${release_packages[@]}" --test golden -- --nocapture outputs_match \
	>"$NODERR_CACHE/golden.log" 2>&1 || { cat "$NODERR_CACHE/golden.log"; exit 1; }
grep '^golden' "$NODERR_CACHE/golden.log"

timed "committed chain specs match the runtime"
scripts/chain-specs.sh --check

timed "end-to-end tests: release node + polkadot.js"
(cd tests/e2e && npm test)

# Fuzzing for a bounded time: 30 s per target. Building the instrumented targets costs about
# 6 minutes on a machine that has never built them (a cold run of everything above takes about
# 72), so the step runs only while the whole suite stays well inside CI's 90 minutes; longer
# runs: scripts/fuzz.sh SECONDS.
fuzz_seconds="${NODERR_FUZZ_SECONDS:-30}"
fuzz_until="${NODERR_FUZZ_UNTIL_MINUTES:-70}"
spent=$((($(date +%s) - suite_start) / 60))
if [ "$spent" -lt "$fuzz_until" ]; then
	timed "fuzzing: $fuzz_seconds s per cargo-fuzz target"
	scripts/fuzz.sh "$fuzz_seconds"
else
	step "fuzzing skipped: $spent minutes spent (the step runs under $fuzz_until); run scripts/fuzz.sh"
fi
