#!/usr/bin/env bash
# Sets everything up, builds the node and runs a single-validator development chain
# (Alice), with its off-chain workers, RPC on ws://127.0.0.1:9944 and Prometheus on :9615,
# and the ML service (`noderr-ml serve`) over the default artifacts on http://127.0.0.1:9955.
# State lives in a temporary directory: every start is a fresh chain. Ctrl-C stops both.
# Extra arguments are passed to the node, e.g. `scripts/run-dev.sh --base-path /data/dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/train-models.sh
cargo build --locked --release -p noderr-node
"$CARGO_TARGET_DIR/debug/noderr-ml" serve --models "$NODERR_CACHE/artifacts" \
	--rpc-addr 127.0.0.1:9955 --prometheus-port 9616 &
ml=$!
trap 'kill $ml 2>/dev/null || true' EXIT
"$NODERR_NODE" --dev --rpc-cors=all "$@"
