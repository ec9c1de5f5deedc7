#!/usr/bin/env bash
# Trains new default models and publishes them as the dev chain's defaults: the model developer's
# step, run on one machine, never per machine (libtorch training does not reproduce byte for byte
# across processors; see ARCHITECTURE.md). It
#   1. trains the four models (scripts/train-models.sh --force) into $NODERR_CACHE/trained,
#   2. copies the small artifacts into offchain-ml/artifacts and splits the sentiment artifact
#      into its head (the encoder weights come from the pinned all-MiniLM-L6-v2 package),
#   3. regenerates the dev genesis entries (runtime/src/dev_models.json) and the golden outputs
#      (offchain-ml/artifacts/golden.jsonl).
# Afterwards rebuild the node and re-export the chain specs (scripts/chain-specs.sh), then commit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
trained="$NODERR_CACHE/trained"
published="$root/offchain-ml/artifacts"
"$root/scripts/train-models.sh" --force "$trained"
ml="$CARGO_TARGET_DIR/debug/noderr-ml"
mkdir -p "$published"
rm -f "$published"/*.nrm "$published"/*.head
cp "$trained"/price-transformer.nrm "$trained"/gaf-regime.nrm "$trained"/msrr.nrm "$published/"
"$ml" head "$trained/sentiment.nrm" --base "$NODERR_CACHE/minilm/model.safetensors" \
	--out "$published/sentiment.head"
"$ml" defaults --from "$published" --base "$NODERR_CACHE/minilm/model.safetensors" \
	--out "$NODERR_CACHE/artifacts"
cmp "$trained/sentiment.nrm" "$NODERR_CACHE/artifacts/sentiment.nrm"
"$ml" registration --genesis "$NODERR_CACHE/artifacts" >"$root/runtime/src/dev_models.json"
"$ml" check --windows 32 --models "$NODERR_CACHE/artifacts" >"$published/golden.jsonl"
echo "published: $(ls "$published")"
