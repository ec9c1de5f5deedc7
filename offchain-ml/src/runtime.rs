//! Deterministic libtorch execution: independent nodes must compute the same outputs.
//!
//! libtorch reads its CPU-capability settings when it first initialises, so [`init`] sets them
//! before any torch call and is idempotent. Inference then runs with one intra-op thread and
//! without autograd.

use std::sync::Once;

/// CPU settings pinned on every node: the same vector ISA and the same MKL code paths, so that
/// floating-point reductions run in the same order everywhere.
pub const DETERMINISM_ENV: [(&str, &str); 3] =
	[("ATEN_CPU_CAPABILITY", "avx2"), ("ONEDNN_MAX_CPU_ISA", "AVX2"), ("MKL_CBWR", "COMPATIBLE")];

static INIT: Once = Once::new();

/// Pins the CPU capability and threading of libtorch. Call before any other torch function.
pub fn init() {
	INIT.call_once(|| {
		for (key, value) in DETERMINISM_ENV {
			// SAFETY: called once, before libtorch (or any thread of ours) reads the environment.
			unsafe { std::env::set_var(key, value) };
		}
		tch::set_num_threads(1);
		tch::set_num_interop_threads(1);
	});
}

/// Number of intra-op threads libtorch uses.
pub fn intra_op_threads() -> i32 {
	tch::get_num_threads()
}
