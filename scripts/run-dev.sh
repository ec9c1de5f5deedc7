#!/usr/bin/env bash
# Sets everything up, builds the node and runs the network's main job on a single-validator
# development chain (Alice):
# - the embedded ML service on http://127.0.0.1:9955 serves the default model artifacts (the
#   published ones committed in offchain-ml/artifacts, registered in the dev genesis, imported
#   into the node's model store);
# - a market-data replay server on http://127.0.0.1:9960 serves the real BTC/USD hourly bars of
#   the training data in Binance and Coinbase formats, one bar per feed round;
# - the BTC/USD feed is seeded with 350 archived bars (the models' windows), then the node's
#   off-chain workers (Dave, Eve and Ferdie, for the operators Alice, Bob and Charlie) observe a
#   bar every 10 blocks, and run the price, regime and MSRR models on each new bar; sentiment
#   tasks settle for texts users submit;
# - each settled task is printed here as it settles (`noderr-node results --follow`).
# RPC on ws://127.0.0.1:9944, Prometheus on :9615. State lives in a temporary directory: every
# start is a fresh chain. Ctrl-C stops everything.
# Extra arguments are passed to the node, e.g. `scripts/run-dev.sh --base-path /data/dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Setup, the release build and the registered model artifacts.
scripts/build.sh >/dev/null
source scripts/env.sh

devnet=(node tests/e2e/devnet.mjs)
replay_port="${NODERR_REPLAY_PORT:-9960}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

"${devnet[@]}" replay --port "$replay_port" &
pids+=($!)
# Browsers may call the node's RPC (unsafe methods included, as on any --dev localhost port)
# from local pages and polkadot.js apps only, not from any web page (--dev alone allows all).
"$NODERR_NODE" --dev \
	--rpc-cors "http://localhost:*,http://127.0.0.1:*,https://localhost:*,https://127.0.0.1:*,https://polkadot.js.org" \
	--ml-models "$NODERR_CACHE/artifacts" \
	--market-source "binance=http://127.0.0.1:$replay_port" \
	--market-source "coinbase=http://127.0.0.1:$replay_port" "$@" &
node_pid=$!
pids+=("$node_pid")

# The node's RPC port (9944 unless the extra arguments chose another).
rpc_port=9944
for ((i = 1; i <= $#; i++)); do
	case "${!i}" in
	--rpc-port=*) rpc_port="${!i#--rpc-port=}" ;;
	--rpc-port) j=$((i + 1)) && rpc_port="${!j}" ;;
	esac
done
rpc="ws://127.0.0.1:$rpc_port"
for _ in $(seq 1 120); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$rpc_port") 2>/dev/null; then break; fi
	kill -0 "$node_pid" 2>/dev/null || { echo "the node exited" >&2; exit 1; }
	sleep 0.5
done
"${devnet[@]}" seed --rpc "$rpc"
cat <<EOF

==> The dev chain is doing its main job. Watch it:
    - settled tasks, printed below as they settle (from another terminal:
      $NODERR_NODE results --follow --rpc-url http://127.0.0.1:$rpc_port);
    - the workers' metrics: curl -s http://127.0.0.1:9615/metrics | grep noderr_worker;
    - polkadot.js apps: https://polkadot.js.org/apps/?rpc=$rpc#/explorer
      (Network > Explorer for events; Developer > Runtime calls > inferenceApi for tasks, bars,
      operators and track records);
    - submit a sentiment task: Developer > Extrinsics > inference.createTask(<sentiment model
      hash>, { Text: "your text" }, fee).
EOF
"$NODERR_NODE" results --follow --from 1 --rpc-url "http://127.0.0.1:$rpc_port" &
pids+=($!)
wait "$node_pid"
