#!/usr/bin/env bash
# Sets up a fresh Debian machine for Noderr: system packages, the pinned Rust toolchain and
# its wasm target, the end-to-end test client (polkadot.js) and libtorch. Idempotent: a
# second run checks and skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

step "system packages"
packages=(protobuf-compiler patchelf jq curl ca-certificates build-essential pkg-config python3-pip)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
	echo "all present"
fi

step "Rust toolchain (rust-toolchain.toml)"
if ! command -v rustup >/dev/null; then
	echo "rustup is required: install it from your distribution or rustup.rs, then re-run" >&2
	exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
rustup component add --toolchain "$toolchain" rustfmt clippy rust-src >/dev/null
rustup target add --toolchain "$toolchain" wasm32v1-none >/dev/null
rustc --version

step "Node.js client for the end-to-end tests"
if ! command -v npm >/dev/null; then
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
# npm ci starts from an empty node_modules; skipped while the installed tree is newer than the
# lock file, so that a second setup (scripts/build.sh, from a running test) leaves it alone.
if [ tests/e2e/node_modules/.package-lock.json -nt tests/e2e/package-lock.json ]; then
	echo "polkadot.js client installed"
else
	(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

step "libtorch"
scripts/setup-libtorch.sh

step "training data and the Python reference environment"
scripts/setup-data.sh

echo
echo "setup complete: CARGO_TARGET_DIR=$CARGO_TARGET_DIR LIBTORCH=$LIBTORCH"
