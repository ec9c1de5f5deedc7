#!/usr/bin/env bash
# Trains the four default models with fixed seeds into $NODERR_CACHE/trained (or $1): how a model
# developer makes new versions. The dev chain does not use these: it runs the published artifacts
# (scripts/default-artifacts.sh), because training does not reproduce byte for byte across
# processors; scripts/publish-default-models.sh publishes a new set. Skips the training when the
# artifacts exist and were made by the current model and feature code (a stamp records the sha256
# of those sources); pass --force to retrain. --only NAME (repeatable) retrains just that model
# (price-transformer, gaf-regime, msrr or sentiment) and leaves the others and the stamp alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
out="$NODERR_CACHE/trained"
force=0
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--force) force=1 ;;
	--only)
		[ $# -ge 2 ] || { echo "--only needs a model name" >&2; exit 2; }
		case "$2" in
		price-transformer | gaf-regime | msrr | sentiment) only+=("$2") ;;
		*) echo "unknown model $2 (price-transformer, gaf-regime, msrr, sentiment)" >&2; exit 2 ;;
		esac
		shift
		;;
	*) out="$1" ;;
	esac
	shift
done
mkdir -p "$out"

"$root/scripts/setup-data.sh"
# The sources that decide the artifacts' bytes (and the VADER baseline in the sentiment manifest);
# not the test references and benchmark scripts next to them.
stamp="$(cat "$root"/offchain-ml/src/{artifact,data,evaluate,heldout,train,runtime}.rs \
	$(find "$root"/offchain-ml/src/{features,models,pipeline} -name '*.rs' | LC_ALL=C sort) \
	"$root"/offchain-ml/python/{prepare_bars,prepare_daily,vader_baseline}.py | sha256sum | cut -d' ' -f1)"
if [ "${#only[@]}" = 0 ] && [ "$force" = 0 ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
	echo "Artifacts in $out are current."
	exit 0
fi

step "Building noderr-ml"
# The release build: the sentiment model embeds its training texts through the int8 encoder,
# whose Rust kernels run a hundred times slower unoptimised; the node's release build shares it.
(cd "$root" && cargo build --locked --release -p noderr-ml --bin noderr-ml)
ml="$CARGO_TARGET_DIR/release/noderr-ml"
# Epochs per model: the best epoch on the validation period is kept.
train() {
	case "$1" in
	price-transformer)
		step "Training the price Transformer"
		"$ml" train price-transformer --epochs 8 --out "$out/price-transformer.nrm"
		;;
	gaf-regime)
		step "Training the GAF regime classifier"
		"$ml" train gaf-regime --epochs 24 --out "$out/gaf-regime.nrm"
		;;
	msrr)
		step "Fitting the MSRR regime filter"
		"$ml" train msrr --epochs 8 --out "$out/msrr.nrm"
		;;
	sentiment)
		step "Training the sentiment classifier (embedding 8,000 texts with MiniLM takes a few minutes)"
		"$ml" train sentiment --epochs 6 --out "$out/sentiment.nrm"
		;;
	esac
}
if [ "${#only[@]}" -gt 0 ]; then
	for name in "${only[@]}"; do train "$name"; done
	exit 0
fi
rm -f "$out/.stamp"
for name in price-transformer gaf-regime msrr sentiment; do train "$name"; done
echo "$stamp" >"$out/.stamp"
step "Artifacts"
for f in "$out"/*.nrm; do "$ml" inspect "$f"; echo; done
