# Shared environment for the project's scripts. Source it; do not run it.
#
# Build output and downloaded toolchain pieces live outside the clone so that repeated runs
# (and CI on the same machine) build incrementally.
export NODERR_CACHE="${NODERR_CACHE:-$HOME/.cache/noderr}"
if [ -L "$NODERR_CACHE/target" ] && [ ! -e "$NODERR_CACHE/target" ]; then
	rm -f "$NODERR_CACHE/target" # a link to a target directory that is gone
fi
mkdir -p "$NODERR_CACHE"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NODERR_CACHE/target}"
export LIBTORCH="${LIBTORCH:-$NODERR_CACHE/libtorch-2.13.0}"
export LIBTORCH_BYPASS_VERSION_CHECK=0
export LD_LIBRARY_PATH="$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NODERR_NODE="$CARGO_TARGET_DIR/release/noderr-node"
# The packages of the one release build that the node, the ML module's and the runtime's tests,
# the dev chain, the testnet and the installer share: every release cargo command names all of
# them, so the dependency tree has one set of features and nothing is compiled twice.
release_packages=(-p noderr-ml -p noderr-runtime -p noderr-node)
# Two cores: two jobs keep the machine busy without thrashing memory.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A panic in a test should show where; the node itself prints clean errors.
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
export WASM_BUILD_WORKSPACE_HINT="${WASM_BUILD_WORKSPACE_HINT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# Prints a progress heading for one step of a script.
step() { printf '\n==> %s\n' "$*"; }
