#!/usr/bin/env bash
# Installs zombienet (zombienet-sdk's CLI, `zombie-cli` from crates.io, pinned) in its own root,
# $NODERR_CACHE/zombie-cli, so that its polkadot-sdk line stays out of this workspace. Built once
# (about 13 minutes on two cores), then reused. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

version=0.7.1
root="$NODERR_CACHE/zombie-cli"
bin="$root/bin/zombie-cli"
if ! "$bin" --version 2>/dev/null | grep -qw "$version"; then
	step "installing zombie-cli $version in $root (once; about 13 minutes on two cores)" >&2
	# Its own target directory: nothing of it mixes with the project's build.
	CARGO_TARGET_DIR="$NODERR_CACHE/target-zombie-cli" \
		cargo install --locked --quiet zombie-cli --version "$version" --root "$root" >&2
	rm -rf "$NODERR_CACHE/target-zombie-cli"
fi
echo "$bin"
