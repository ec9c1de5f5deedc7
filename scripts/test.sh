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
# dependency tree with one set of features, compiled once (every cargo command below names the
# same packages, `release_packages` from env.sh, so none rebuilds anything).
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

# The last two steps are the costliest to start on a machine that has never run them: the
# local testnet on zombienet (zombie-cli is built once, about 14 minutes, and the upgrade test's
# second runtime and try-runtime build once, about 17; then the tests take about 17) and fuzzing (the instrumented targets build once, about 6 minutes, then 30 s per
# target). A cold run of everything above took about 75 minutes before the operator guide test
# (about 4 more), so each runs only while the whole suite stays well inside CI's 90
# (NODERR_SUITE_BUDGET_MINUTES, default 75); skipped, it says so and how to run it.
budget="${NODERR_SUITE_BUDGET_MINUTES:-75}"
# Whether a step of about $1 minutes fits in the budget (prints why not).
fits() {
	local spent=$((($(date +%s) - suite_start) / 60))
	if [ $((spent + $1)) -le "$budget" ]; then return 0; fi
	step "skipped: $2 (about $1 minutes; $spent of the $budget-minute budget spent); run it with $3"
	return 1
}

# The testnet's upgrade test needs the runtime one spec_version later (a second wasm build of the
# runtime crate) and the try-runtime checks (a debug build of the runtime with try-runtime): about
# 17 minutes the first time on this machine's size, a few after a runtime change, none after that.
# The testnet's tests themselves took 17 minutes (1,029 s) in the last full run.
cost=18
"$NODERR_CACHE/zombie-cli/bin/zombie-cli" --version >/dev/null 2>&1 || cost=$((cost + 14))
if [ ! -s "$CARGO_TARGET_DIR/release/wbuild/noderr-runtime-upgrade-test/noderr_runtime_upgrade_test.compact.compressed.wasm" ] ||
	! compgen -G "$CARGO_TARGET_DIR/debug/deps/try_upgrade-*" >/dev/null; then
	cost=$((cost + 17))
fi
if fits "$cost" "the local testnet on zombienet" "scripts/setup-zombienet.sh && scripts/setup-prometheus.sh && (cd tests/e2e && node --test zombienet.testnet.mjs)"; then
	timed "runtime upgrade: the runtime one spec_version later (wasm), try-runtime's upgrade checks on every preset's genesis"
	scripts/build-upgrade-runtime.sh >/dev/null
	SKIP_WASM_BUILD=1 cargo test --locked -p noderr-runtime --features try-runtime --test try_upgrade
	timed "local testnet on zombienet: six validators, every tier's tasks, the dashboards' queries on Prometheus, a validator killed and restarted, a runtime upgrade while tasks run"
	NODERR_ZOMBIE_CLI=$(scripts/setup-zombienet.sh)
	NODERR_PROMETHEUS=$(scripts/setup-prometheus.sh)
	export NODERR_ZOMBIE_CLI NODERR_PROMETHEUS
	(cd tests/e2e && node --test --test-concurrency=1 zombienet.testnet.mjs)
fi

fuzz_seconds="${NODERR_FUZZ_SECONDS:-30}"
cost=3
[ -d "$NODERR_CACHE/target-fuzz" ] || cost=9
if fits "$cost" "fuzzing" "scripts/fuzz.sh $fuzz_seconds"; then
	timed "fuzzing: $fuzz_seconds s per cargo-fuzz target"
	scripts/fuzz.sh "$fuzz_seconds"
fi
