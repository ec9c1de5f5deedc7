#!/usr/bin/env bash
# Builds the runtime one spec_version later (crate noderr-runtime-upgrade-test) as a wasm blob
# for the forkless-upgrade test, and prints the blob's path. Its own cargo invocation: built
# together with the node, cargo would unify features and the node would embed the bumped version.
# Reuses the wasm dependencies of the node's runtime build; after scripts/build.sh it compiles
# only the runtime crate for wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step "the upgrade runtime (spec_version + 1), wasm only" >&2
# substrate-wasm-builder gives each wasm project its own target directory: pointed at the node's
# runtime project's, the upgrade build reuses every wasm dependency it compiled (a cold second
# tree costs about ten minutes here). The two projects' packages have different names, so their
# outputs do not collide; they are never built at the same time.
wbuild="$CARGO_TARGET_DIR/release/wbuild"
mkdir -p "$wbuild/noderr-runtime/target" "$wbuild/noderr-runtime-upgrade-test"
if [ ! -L "$wbuild/noderr-runtime-upgrade-test/target" ]; then
	rm -rf "$wbuild/noderr-runtime-upgrade-test/target"
	ln -s ../noderr-runtime/target "$wbuild/noderr-runtime-upgrade-test/target"
fi
cargo build --locked --release -p noderr-runtime-upgrade-test >&2
blob="$wbuild/noderr-runtime-upgrade-test/noderr_runtime_upgrade_test.compact.compressed.wasm"
if [ ! -s "$blob" ]; then
	echo "error: the build finished without the upgrade blob $blob" >&2
	exit 1
fi
echo "$blob"
