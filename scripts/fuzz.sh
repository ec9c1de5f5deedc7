#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 300; the test suite runs 30) and
# prints, per target, the executions, the corpus size and the crashes (none, or this fails).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets: artifact (decode, load, one inference per method), tokenizer (the text pipeline:
# token ids and the lexicon features under both rule sets), features (the pipeline on arbitrary
# bars), peer_request (the artifact protocol's decoding and chunk reads).
# cargo-fuzz is installed once in $NODERR_CACHE/cargo-fuzz; targets build in
# $NODERR_CACHE/target-fuzz (instrumented, so apart from the normal build); the corpus grows in
# $NODERR_CACHE/fuzz-corpus, seeded from the committed artifacts and the seeds made below. A
# crashing input is kept in fuzz/artifacts/<target>/ with the command to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(artifact tokenizer features peer_request)
case "$seconds" in
	'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

fuzz_root="$NODERR_CACHE/cargo-fuzz"
if ! "$fuzz_root/bin/cargo-fuzz" --version 2>/dev/null | grep -q '0\.13\.2'; then
	step "installing cargo-fuzz 0.13.2 in $fuzz_root"
	cargo install --locked --quiet cargo-fuzz --version 0.13.2 --root "$fuzz_root"
fi
export PATH="$fuzz_root/bin:$PATH"
# libFuzzer's instrumentation flags are unstable rustc options: the stable toolchain accepts
# them for this build only.
export RUSTC_BOOTSTRAP=1

corpus_root="$NODERR_CACHE/fuzz-corpus"
mkdir -p "$corpus_root"/{artifact,tokenizer,features,peer_request}
cp -n offchain-ml/artifacts/*.nrm "$corpus_root/artifact/" 2>/dev/null || true
printf 'markets rally on strong earnings' >"$corpus_root/tokenizer/rally"
printf 'Bitcoin’s price — 的 ÉTÉ naïve!!! ##ings [CLS]\t\n\x00' >"$corpus_root/tokenizer/mixed"
printf 'not SO good but no bad at the least :) kind of 😀😀?? the shit' >"$corpus_root/tokenizer/rules"
python3 -c "import sys; sys.stdout.buffer.write(bytes([1]) + bytes(range(256)) * 8)" \
	>"$corpus_root/features/steps"
python3 -c "import sys, struct; sys.stdout.buffer.write(bytes(32) + struct.pack('<QI', 1048000, 4096))" \
	>"$corpus_root/peer_request/tail"

step "building the fuzz targets (instrumented, release)"
for target in "${targets[@]}"; do
	cargo fuzz build --sanitizer none --release --target-dir "$NODERR_CACHE/target-fuzz" "$target"
done

summary=()
for target in "${targets[@]}"; do
	step "fuzzing $target for $seconds s"
	max_len=4096
	[ "$target" = artifact ] && max_len=131072
	log="$NODERR_CACHE/fuzz-$target.log"
	status=0
	cargo fuzz run --sanitizer none --release --target-dir "$NODERR_CACHE/target-fuzz" \
		"$target" "$corpus_root/$target" -- \
		-max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=4096 -timeout=30 \
		-print_final_stats=1 >"$log" 2>&1 || status=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
	crashes=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l)
	inputs=$(find "$corpus_root/$target" -type f | wc -l)
	summary+=("$(printf 'fuzz %-13s %10s executions in %s s, corpus %5s inputs, %s crash(es)' \
		"$target" "$execs" "$seconds" "$inputs" "$crashes")")
	if [ "$status" -ne 0 ]; then
		tail -n 40 "$log"
		printf '%s\n' "${summary[@]}"
		echo "fuzz target $target failed: see $log and fuzz/artifacts/$target/" >&2
		exit 1
	fi
done
printf '%s\n' "${summary[@]}"
