#!/usr/bin/env bash
# Sets everything up and runs every test: pallet unit tests (no node, no wasm), runtime tests,
# the release node build, the chain-spec check and the end-to-end tests with polkadot.js
# against the real node.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

step "pallet unit tests and benchmark tests (no node, no wasm runtime)"
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-validator-set -p pallet-staking-tiers -p pallet-model-registry \
	--features runtime-benchmarks

step "ML module: default artifacts (trained once, reused while the model code is unchanged)"
scripts/train-models.sh

step "ML module: features against the ta package, artifacts, determinism, the JSON-RPC service"
cargo test --locked -p noderr-ml

step "the dev chain's genesis registers exactly these artifacts"
"$CARGO_TARGET_DIR/debug/noderr-ml" registration --check runtime/src/dev_models.json "$NODERR_CACHE/artifacts"

step "runtime tests (native, no wasm build)"
SKIP_WASM_BUILD=1 cargo test --locked -p noderr-runtime

step "release node build"
start=$(date +%s)
cargo build --locked --release -p noderr-node
echo "node build took $(( $(date +%s) - start )) s"

step "committed chain specs match the runtime"
scripts/chain-specs.sh --check

step "end-to-end tests: release node + polkadot.js"
(cd tests/e2e && npm test)
