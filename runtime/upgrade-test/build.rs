//! Builds the upgrade blob in its own wasm project (target/<profile>/wbuild/
//! noderr-runtime-upgrade-test), sharing the wasm dependencies the node's runtime build compiled.

fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
