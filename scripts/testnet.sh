#!/usr/bin/env bash
# Sets everything up and starts the local testnet on zombienet: six validators, each an
# operator with its ML worker (three GUARDIANs, two ORACLEs, one ALL; zombienet/local.toml),
# the market-data replay server the workers observe, the BTC/USD feed seeded, and the settled
# tasks printed as they settle; a Prometheus (Debian's package) scraping every node. Prints the
# WebSocket endpoint for polkadot.js apps, every node's metrics address, Prometheus's address and
# the Grafana dashboards to import (deploy/grafana). Ctrl-C stops the network.
#   scripts/testnet.sh [DEFINITION]        (default zombienet/local.toml)
# The network's files (chain spec, each node's base path and log) are in $NODERR_TESTNET_DIR
# (default: a new temporary directory, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
# Setup, the release build and the registered model artifacts.
scripts/build.sh >/dev/null
source scripts/env.sh
# The node links libtorch dynamically: a missing or moved libtorch stops it before it starts.
if ! out=$("$NODERR_NODE" --version 2>&1); then
	echo "the node cannot start: $out" >&2
	echo "libtorch is missing or moved: run scripts/setup-libtorch.sh (it puts libtorch in $LIBTORCH) and start again" >&2
	exit 1
fi
zombie=$(scripts/setup-zombienet.sh)
prometheus=$(scripts/setup-prometheus.sh)

definition="${1:-zombienet/local.toml}"
[ -f "$definition" ] || { echo "no network definition $definition" >&2; exit 2; }
run_dir="${NODERR_TESTNET_DIR:-$(mktemp -d /tmp/noderr-testnet.XXXXXX)}"
mkdir -p "$run_dir"
network="$run_dir/$(basename "$definition")"
sed "s|@ARTIFACTS@|$NODERR_CACHE/artifacts|g" "$definition" >"$network"

replay_port=9960
prometheus_port=9090
# Every port the network needs must be free: the definition's, the replay server's and
# Prometheus's. A port in use is named with what to do, before anything starts.
ports=$(grep -oE '(rpc_port|prometheus_port|p2p_port) = [0-9]+|127\.0\.0\.1:[0-9]+' "$network" | grep -oE '[0-9]+$')
for port in $ports $replay_port $prometheus_port; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "port $port is in use (see: ss -ltnp 'sport = :$port'); stop what listens there, for example an earlier testnet or dev chain, and start again" >&2
		exit 1
	fi
done
pids=()
# zombie-cli stops its nodes only when it ends normally; on a signal they would outlive it, so
# they are stopped here too, found by their base paths.
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	pkill -INT -f -- "--base-path $run_dir/net/" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

node tests/e2e/devnet.mjs replay --port "$replay_port" &
pids+=($!)
step "spawning $definition with zombienet (files in $run_dir/net)"
# `-v none`: zombie-cli does not watch the nodes. Watching, it tears the whole network down the
# moment one node stops, so a developer could not stop a validator and watch finality go on.
PATH="$CARGO_TARGET_DIR/release:$PATH" "$zombie" spawn -p native -v none -d "$run_dir/net" "$network" \
	> >(tee "$run_dir/zombie.log") 2>&1 &
zombie_pid=$!
pids+=("$zombie_pid")

# zombienet writes zombie.json once every node is up.
for _ in $(seq 1 600); do
	[ -s "$run_dir/net/zombie.json" ] && break
	if ! kill -0 "$zombie_pid" 2>/dev/null; then
		if grep -q "Can't bind" "$run_dir/zombie.log" 2>/dev/null; then
			echo "zombienet could not bind the ports it names above: a network stopped less than a minute ago leaves them waiting (TIME_WAIT, see ss -tan state time-wait); wait a minute and start again" >&2
		else
			echo "zombienet exited; see above and $run_dir/zombie.log" >&2
		fi
		exit 1
	fi
	sleep 1
done
[ -s "$run_dir/net/zombie.json" ] || { echo "the network did not come up in 10 minutes" >&2; exit 1; }
rpc=$(jq -r '.relay.nodes[0].ws_uri' "$run_dir/net/zombie.json")
targets=$(jq -c '[.relay.nodes[].prometheus_uri | sub("^https?://"; "") | sub("/.*$"; "")]' "$run_dir/net/zombie.json")
cat >"$run_dir/prometheus.yml" <<EOF
global: { scrape_interval: 5s, evaluation_interval: 5s }
scrape_configs:
  - job_name: noderr
    static_configs: [{ targets: $targets }]
EOF
"$prometheus" --config.file="$run_dir/prometheus.yml" --storage.tsdb.path="$run_dir/prometheus" \
	--web.listen-address="127.0.0.1:$prometheus_port" >"$run_dir/prometheus.log" 2>&1 &
pids+=($!)
rpc_http="http://${rpc#ws://}"
node tests/e2e/devnet.mjs seed --rpc "$rpc"

cat <<EOF

==> The local testnet is running ($(jq '.relay.nodes | length' "$run_dir/net/zombie.json") validators, every one an operator with its ML worker).
    - polkadot.js apps: https://polkadot.js.org/apps/?rpc=$rpc#/explorer
$(jq -r '.relay.nodes[] | "    - \(.name): RPC \(.ws_uri), Prometheus \(.prometheus_uri), log '"$run_dir"'/net/\(.name)/\(.name).log"' "$run_dir/net/zombie.json")
    - Prometheus scraping every node: http://127.0.0.1:$prometheus_port (log $run_dir/prometheus.log)
    - Grafana dashboards: import $(pwd)/deploy/grafana/noderr-operator.json and
      $(pwd)/deploy/grafana/noderr-network.json, with that Prometheus as their data source
    - settled tasks are printed below (from another terminal:
      $NODERR_NODE results --follow --rpc-url $rpc_http)
    - every node's status: $NODERR_NODE models --rpc-url $rpc_http
EOF
"$NODERR_NODE" results --follow --from 1 --rpc-url "$rpc_http" &
pids+=($!)
wait "$zombie_pid"
