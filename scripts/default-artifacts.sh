#!/usr/bin/env bash
# Puts the dev chain's default model artifacts into $NODERR_CACHE/artifacts: the published files
# committed in offchain-ml/artifacts, and the sentiment artifact assembled from its committed head
# and the pinned all-MiniLM-L6-v2 weights (scripts/setup-data.sh). The same bytes on every machine:
# nothing is trained here. Then checks that they are exactly what the dev genesis registers
# (runtime/src/dev_models.json).
#
# Usage: scripts/default-artifacts.sh [--release]   (--release: use a release build of noderr-ml,
# which shares its dependencies with the release node). With NODERR_ML_BIN set, that binary is
# used and nothing is built.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
profile=debug
flags=()
if [ "${1:-}" = "--release" ]; then
	profile=release
	flags=(--release)
fi
"$root/scripts/setup-data.sh" >/dev/null
if [ -n "${NODERR_ML_BIN:-}" ]; then
	ml="$NODERR_ML_BIN"
else
	(cd "$root" && cargo build --locked "${flags[@]}" -p noderr-ml --bin noderr-ml)
	ml="$CARGO_TARGET_DIR/$profile/noderr-ml"
fi
out="$NODERR_CACHE/artifacts"
"$ml" defaults --from "$root/offchain-ml/artifacts" --base "$NODERR_CACHE/minilm/model.safetensors" --out "$out"
"$ml" registration --check "$root/runtime/src/dev_models.json" "$out"
