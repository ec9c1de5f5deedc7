//! Deterministic libtorch execution: independent nodes must compute the same outputs.
//!
//! libtorch reads its CPU-capability settings when it first initialises, so [`init`] sets them
//! before any torch call and is idempotent. Inference then runs with one intra-op thread inside
//! libtorch's inference mode ([`InferenceMode`]).

use std::sync::Once;

/// CPU settings pinned on every node: the same vector ISA (AVX2, which every supported node
/// has) and MKL's conditional numerical reproducibility on its AVX2 code path in strict mode,
/// so that floating-point reductions run in the same order everywhere. MKL's `COMPATIBLE`
/// path would also be reproducible but falls back to SSE2 kernels and more than doubles the
/// encoder's latency (sentiment at 32 tokens: 21.7 ms against 10.1 ms, criterion). FBGEMM,
/// which runs the int8 layers ([`crate::models::int8`]), is left to choose: its kernels give the
/// same integers on every instruction set, and its AVX-512 VNNI ones are the fastest.
pub const DETERMINISM_ENV: [(&str, &str); 3] =
	[("ATEN_CPU_CAPABILITY", "avx2"), ("ONEDNN_MAX_CPU_ISA", "AVX2"), ("MKL_CBWR", "AVX2,STRICT")];

static INIT: Once = Once::new();

/// How libtorch chooses its CPU kernels. Nodes always run [`CpuMode::Pinned`]; the others exist
/// so that one machine can measure how far the other code paths a processor offers move the
/// quantised outputs (`noderr-ml check --cpu-mode`, the golden-output test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
	/// [`DETERMINISM_ENV`]: AVX2 kernels, MKL's reproducible AVX2 path.
	Pinned,
	/// Whatever libtorch and MKL pick for this processor (none of the settings).
	Default,
	/// ATen's and FBGEMM's AVX2 kernels only, MKL and oneDNN left to choose.
	Avx2,
	/// ATen's and FBGEMM's AVX-512 kernels only (where the processor has AVX-512; FBGEMM's
	/// without VNNI, which the pinned and default modes use where present).
	Avx512,
}

impl CpuMode {
	pub const ALL: [CpuMode; 4] =
		[CpuMode::Pinned, CpuMode::Default, CpuMode::Avx2, CpuMode::Avx512];

	pub fn name(self) -> &'static str {
		match self {
			CpuMode::Pinned => "pinned",
			CpuMode::Default => "default",
			CpuMode::Avx2 => "avx2",
			CpuMode::Avx512 => "avx512",
		}
	}

	pub fn parse(s: &str) -> Result<Self, String> {
		Self::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
			format!("unknown CPU mode {s:?}: use one of pinned, default, avx2, avx512")
		})
	}

	fn env(self) -> &'static [(&'static str, &'static str)] {
		match self {
			CpuMode::Pinned => &DETERMINISM_ENV,
			CpuMode::Default => &[],
			CpuMode::Avx2 => {
				&[("ATEN_CPU_CAPABILITY", "avx2"), ("FBGEMM_ENABLE_INSTRUCTIONS", "AVX2")]
			}
			CpuMode::Avx512 => {
				&[("ATEN_CPU_CAPABILITY", "avx512"), ("FBGEMM_ENABLE_INSTRUCTIONS", "AVX512")]
			}
		}
	}
}

/// Whether this processor runs AVX-512 code (what ATen needs for its avx512 kernels).
pub fn has_avx512() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::arch::is_x86_feature_detected!("avx512f")
			&& std::arch::is_x86_feature_detected!("avx512bw")
			&& std::arch::is_x86_feature_detected!("avx512vl")
			&& std::arch::is_x86_feature_detected!("avx512dq")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// Pins the CPU capability and threading of libtorch. Call before any other torch function.
pub fn init() {
	init_with(CpuMode::Pinned)
}

/// [`init`] with another kernel choice, for measurements only. The first call decides.
pub fn init_with(mode: CpuMode) {
	INIT.call_once(|| {
		// Every variable any mode sets is cleared first, so only `mode`'s settings apply.
		for (key, _) in CpuMode::ALL.iter().flat_map(|m| m.env()) {
			// SAFETY: called once, before libtorch (or any thread of ours) reads the environment.
			unsafe { std::env::remove_var(key) };
		}
		for (key, value) in mode.env() {
			// SAFETY: as above.
			unsafe { std::env::set_var(key, value) };
		}
		tch::set_num_threads(1);
		tch::set_num_interop_threads(1);
	});
}

/// Number of intra-op threads libtorch uses.
/// Gives the allocator's freed pages back to the system. Loading an artifact briefly holds its
/// bytes, the decoded weights and the tensors at once; glibc keeps the freed buffers in its heap
/// (its mmap threshold grows after large frees), about 50 MiB of resident memory for the
/// default models that nothing uses again.
pub fn release_freed_memory() {
	#[cfg(all(target_os = "linux", target_env = "gnu"))]
	// SAFETY: malloc_trim only returns free memory of the allocator's arenas to the system.
	unsafe {
		libc::malloc_trim(0);
	}
}

pub fn intra_op_threads() -> i32 {
	tch::get_num_threads()
}

unsafe extern "C" {
	fn noderr_inference_mode_enter() -> *mut core::ffi::c_void;
	fn noderr_inference_mode_exit(guard: *mut core::ffi::c_void);
	fn noderr_inference_mode_enabled() -> i32;
}

/// libtorch's inference mode (no autograd recording, no version counters) while alive. It is
/// thread-local state, so the guard cannot leave the thread that made it.
pub struct InferenceMode {
	guard: *mut core::ffi::c_void,
}

impl InferenceMode {
	pub fn enter() -> Self {
		// SAFETY: allocates a c10::InferenceMode on this thread; freed in Drop on the same
		// thread (the raw pointer keeps the type !Send).
		Self { guard: unsafe { noderr_inference_mode_enter() } }
	}

	/// Whether inference mode is on for the current thread.
	pub fn is_enabled() -> bool {
		// SAFETY: reads libtorch's thread-local flag.
		unsafe { noderr_inference_mode_enabled() != 0 }
	}
}

impl Drop for InferenceMode {
	fn drop(&mut self) {
		// SAFETY: `guard` came from noderr_inference_mode_enter on this thread, freed once.
		unsafe { noderr_inference_mode_exit(self.guard) }
	}
}
