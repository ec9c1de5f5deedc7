//! torch-sys links libtorch but puts no run path into the final binaries: add one pointing at
//! the libtorch directory the build used, so that tests and the node run without
//! LD_LIBRARY_PATH.

fn main() {
	println!("cargo:rerun-if-env-changed=LIBTORCH");
	if let Ok(dir) = std::env::var("LIBTORCH") {
		println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}/lib");
	}
}
