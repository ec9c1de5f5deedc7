#!/usr/bin/env bash
# Sets everything up, builds the node and runs a single-validator development chain
# (Alice), with its off-chain workers, RPC on ws://127.0.0.1:9944, Prometheus on :9615 and the
# embedded ML service on http://127.0.0.1:9955 serving the default model artifacts (trained
# once by scripts/train-models.sh, registered in the dev genesis, imported into the node's
# model store). State lives in a temporary directory: every start is a
# fresh chain. Ctrl-C stops it.
# Extra arguments are passed to the node, e.g. `scripts/run-dev.sh --base-path /data/dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/train-models.sh
cargo build --locked -p noderr-ml --bin noderr-ml
# The dev genesis registers the default artifacts by hash: they must be these.
"$CARGO_TARGET_DIR/debug/noderr-ml" registration --check runtime/src/dev_models.json "$NODERR_CACHE/artifacts"
cargo build --locked --release -p noderr-node
exec "$NODERR_NODE" --dev --rpc-cors=all --ml-models "$NODERR_CACHE/artifacts" "$@"
