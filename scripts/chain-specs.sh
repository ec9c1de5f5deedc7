#!/usr/bin/env bash
# Exports the built-in chain specs (dev, local; plain and raw) into chain-specs/, or with --check verifies
# that the committed ones still match what the current runtime exports.
#
# The wasm blob (`code` / the `:code` storage key) is left out of the comparison: its bytes
# depend on the build machine's paths, so only a reproducible release build can pin it. Every
# other field (genesis accounts, balances, validators, keys, properties, boot nodes) must match.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

mode=write
[ "${1:-}" = "--check" ] && mode=check
node="$NODERR_NODE"
[ -x "$node" ] || { echo "build the node first: cargo build --release -p noderr-node" >&2; exit 1; }

out=chain-specs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for chain in dev local; do
	"$node" export-chain-spec --chain "$chain" >"$tmp/$chain.json" 2>/dev/null
	"$node" export-chain-spec --chain "$chain" --raw >"$tmp/$chain-raw.json" 2>/dev/null
done

if [ "$mode" = write ]; then
	mkdir -p "$out"
	cp "$tmp"/*.json "$out"/
	echo "wrote $(ls "$out"/*.json | wc -l) chain specs to $out/"
	exit 0
fi

python3 - "$tmp" "$out" <<'PY'
import json, os, sys
fresh_dir, committed_dir = sys.argv[1:]
CODE_KEY = "0x3a636f6465"  # ":code"

def strip_code(spec):
    genesis = spec.get("genesis", {})
    if "runtimeGenesis" in genesis:
        genesis["runtimeGenesis"].pop("code", None)
    raw = genesis.get("raw")
    if raw:
        raw.get("top", {}).pop(CODE_KEY, None)
    return spec

failed = 0
passed = 0
for name in sorted(os.listdir(fresh_dir)):
    committed = os.path.join(committed_dir, name)
    if not os.path.exists(committed):
        print(f"chain-specs: {name}: FAILED, missing in {committed_dir}/ (run scripts/chain-specs.sh)")
        failed += 1
        continue
    with open(os.path.join(fresh_dir, name)) as f:
        fresh = strip_code(json.load(f))
    with open(committed) as f:
        old = strip_code(json.load(f))
    if fresh == old:
        print(f"chain-specs: {name}: ok")
        passed += 1
    else:
        keys = sorted(k for k in set(fresh) | set(old) if fresh.get(k) != old.get(k))
        print(f"chain-specs: {name}: FAILED, differs in {keys}; regenerate with scripts/chain-specs.sh")
        failed += 1
print(f"chain-specs: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
