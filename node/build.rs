use substrate_build_script_utils::{generate_cargo_keys, rerun_if_git_head_changed};

fn main() {
	generate_cargo_keys();
	rerun_if_git_head_changed();
	// The embedded ML service links libtorch (through tch); run path to the libtorch the
	// build used, so the node starts without LD_LIBRARY_PATH.
	println!("cargo:rerun-if-env-changed=LIBTORCH");
	if let Ok(dir) = std::env::var("LIBTORCH") {
		println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}/lib");
	}
}
