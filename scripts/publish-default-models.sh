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
#
# Usage: scripts/publish-default-models.sh [--only NAME]...   (--only: retrain and republish just
# those models; the others stay exactly as committed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
trained="$NODERR_CACHE/trained"
published="$root/offchain-ml/artifacts"
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--only)
		[ $# -ge 2 ] || { echo "--only needs a model name" >&2; exit 2; }
		only+=("$2")
		shift 2
		;;
	*) echo "usage: $0 [--only NAME]..." >&2; exit 2 ;;
	esac
done
if [ "${#only[@]}" -gt 0 ]; then
	names=("${only[@]}")
	"$root/scripts/train-models.sh" "$trained" $(printf -- '--only %s ' "${only[@]}")
else
	names=(price-transformer gaf-regime msrr sentiment)
	"$root/scripts/train-models.sh" --force "$trained"
fi
ml="$CARGO_TARGET_DIR/release/noderr-ml"
mkdir -p "$published"
for name in "${names[@]}"; do
	if [ "$name" = sentiment ]; then
		"$ml" head "$trained/sentiment.nrm" --base "$NODERR_CACHE/minilm/model.safetensors" \
			--out "$published/sentiment.head"
	else
		cp "$trained/$name.nrm" "$published/"
	fi
done
"$ml" defaults --from "$published" --base "$NODERR_CACHE/minilm/model.safetensors" \
	--out "$NODERR_CACHE/artifacts"
if printf '%s\n' "${names[@]}" | grep -qx sentiment; then
	cmp "$trained/sentiment.nrm" "$NODERR_CACHE/artifacts/sentiment.nrm"
fi
"$ml" registration --genesis "$NODERR_CACHE/artifacts" >"$root/runtime/src/dev_models.json"
"$ml" check --windows 32 --models "$NODERR_CACHE/artifacts" >"$published/golden.jsonl"
echo "published: $(ls "$published")"
