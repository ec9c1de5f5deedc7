#!/usr/bin/env bash
# Sets everything up, builds the node and runs a single-validator development chain
# (Alice), with its off-chain workers, RPC on ws://127.0.0.1:9944, Prometheus on :9615 and the
# embedded ML service on http://127.0.0.1:9955 serving the default model artifacts (the published
# ones committed in offchain-ml/artifacts, registered in the dev genesis, imported into the node's
# model store). State lives in a temporary directory: every start is a
# fresh chain. Ctrl-C stops it.
# Extra arguments are passed to the node, e.g. `scripts/run-dev.sh --base-path /data/dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# The same release build as scripts/test.sh (same packages and targets, so one build serves both
# commands): the node and the noderr-ml tool.
cargo build --locked --release --bins --tests -p noderr-ml -p noderr-runtime -p noderr-node
# The published artifacts the dev genesis registers by hash, checked against it.
NODERR_ML_BIN="$CARGO_TARGET_DIR/release/noderr-ml" scripts/default-artifacts.sh
exec "$NODERR_NODE" --dev --rpc-cors=all --ml-models "$NODERR_CACHE/artifacts" "$@"
