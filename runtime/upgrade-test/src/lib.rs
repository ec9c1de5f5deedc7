//! The Noderr runtime one `spec_version` later, for the forkless-upgrade test
//! (`tests/e2e/zombienet.testnet.mjs`). Its wasm build links `noderr-runtime` with the
//! `upgrade-test` feature; the blob is
//! `$CARGO_TARGET_DIR/release/wbuild/noderr-runtime-upgrade-test/noderr_runtime_upgrade_test.compact.compressed.wasm`,
//! printed by `scripts/build-upgrade-runtime.sh`.

#![no_std]

#[cfg(target_arch = "wasm32")]
pub use noderr_runtime::*;
