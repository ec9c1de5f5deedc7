#!/usr/bin/env bash
# Sets the machine up (scripts/setup.sh), builds the release node and the noderr-ml tool, and
# puts the published model artifacts the chains register in $NODERR_CACHE/artifacts, checked
# against their registered hashes. The same release build as scripts/test.sh (same packages and
# targets), so one build serves the dev chain, the testnet, the installer and the tests.
# Prints the node's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
source scripts/env.sh
step "release build: the node (runtime embedded) and the noderr-ml tool" >&2
cargo build --locked --release --bins --tests "${release_packages[@]}" >&2
NODERR_ML_BIN="$CARGO_TARGET_DIR/release/noderr-ml" scripts/default-artifacts.sh >&2
echo "$NODERR_NODE"
