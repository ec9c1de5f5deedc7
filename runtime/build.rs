//! Builds the wasm runtime (unless SKIP_WASM_BUILD is set) and embeds it in the native crate.

#[cfg(all(feature = "std", feature = "upgrade-test"))]
fn main() {
	// The wasm project this script builds (target/<profile>/wbuild/noderr-runtime) is shared by
	// every feature set of this crate: building it with the bumped version would put that version
	// into the node's embedded runtime. The upgrade blob has its own crate and project.
	panic!(
		"the `upgrade-test` feature is for the wasm build of noderr-runtime-upgrade-test only: \
		 run scripts/build-upgrade-runtime.sh"
	);
}

/// The wasm builder reruns this script when a `.rs` or `.toml` file of the crate changes; the
/// genesis presets also embed the dev chain's model list, which must rebuild the wasm too.
#[cfg(all(feature = "std", not(feature = "upgrade-test")))]
fn track_embedded_files() {
	println!("cargo:rerun-if-changed=src/dev_models.json");
}

#[cfg(all(feature = "std", feature = "metadata-hash", not(feature = "upgrade-test")))]
fn main() {
	track_embedded_files();
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("NODERR", 12)
		.build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash"), not(feature = "upgrade-test")))]
fn main() {
	track_embedded_files();
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

#[cfg(not(feature = "std"))]
fn main() {}
