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
cargo build --locked --release -p noderr-node
# The published artifacts the dev genesis registers by hash, checked against it.
scripts/default-artifacts.sh --release
exec "$NODERR_NODE" --dev --rpc-cors=all --ml-models "$NODERR_CACHE/artifacts" "$@"
