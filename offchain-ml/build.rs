//! Build steps of noderr-ml:
//! - torch-sys links libtorch but puts no run path into the final binaries: add one pointing at
//!   the libtorch directory the build used, so that tests and the node run without
//!   LD_LIBRARY_PATH;
//! - compile the small C++ shims that expose libtorch's InferenceMode guard and FBGEMM's exact int8
//!   matrix products.

fn main() {
	println!("cargo:rerun-if-env-changed=LIBTORCH");
	println!("cargo:rerun-if-changed=src/inference_mode.cpp");
	println!("cargo:rerun-if-changed=src/int8_linear.cpp");
	let dir = std::env::var("LIBTORCH")
		.expect("LIBTORCH must point at libtorch 2.13.0 (scripts/setup-libtorch.sh makes one)");
	println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}/lib");
	cc::Build::new()
		.cpp(true)
		.file("src/inference_mode.cpp")
		.file("src/int8_linear.cpp")
		.include(format!("{dir}/include"))
		.flag("-std=c++17")
		// The PyTorch wheels are built with the C++11 ABI.
		.define("_GLIBCXX_USE_CXX11_ABI", "1")
		.warnings(false)
		.compile("noderr_inference_mode");
	println!("cargo:rustc-link-search=native={dir}/lib");
	println!("cargo:rustc-link-lib=dylib=torch_cpu");
	println!("cargo:rustc-link-lib=dylib=c10");
}
