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
	fix="install it yourself with: cargo install --locked zombie-cli --version $version --root $root"
	command -v cargo >/dev/null || {
		echo "zombie-cli is missing and cargo is not installed to build it: run scripts/setup.sh (it installs the Rust toolchain), or $fix" >&2
		exit 1
	}
	step "installing zombie-cli $version in $root (once; about 13 minutes on two cores)" >&2
	# Its own target directory: nothing of it mixes with the project's build.
	status=0
	CARGO_TARGET_DIR="$NODERR_CACHE/target-zombie-cli" \
		cargo install --locked --quiet zombie-cli --version "$version" --root "$root" >&2 || status=$?
	rm -rf "$NODERR_CACHE/target-zombie-cli"
	if [ "$status" -ne 0 ]; then
		echo "zombie-cli $version is missing and could not be built (cargo's output above says why; it needs crates.io): fix that and start again, or $fix" >&2
		exit 1
	fi
fi
echo "$bin"
