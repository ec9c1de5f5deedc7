//! Linear layers in int8 with exact integer sums, for the kernel-bound encoder.
//!
//! - Weights: once, per output channel, symmetric, 7 bits: `q = round(w / s)`, `|q| <= 63`,
//!   `s = max|w| / 63`.
//! - Activations: per call, per row (token), symmetric, 8 bits: `q = round(x * (1 / s))`,
//!   `|q| <= 127`, with `s` the row's `max|x| / 127` rounded *up* to 4 significant bits. Sent to
//!   the product as `q + 128` (unsigned).
//! - Product: FBGEMM's packed int8 kernels through the C++ shim `src/int8_linear.cpp`, exact
//!   32-bit sums on AVX2, AVX-512 and AVX-512 VNNI alike (7-bit weights keep AVX2's saturating
//!   16-bit pairs below 2^15).
//! - Output: `((sum - 128 * colsum) as f32 * s_row) * s_col + bias`, in that order.
//!
//! Every step outside the integer product is Rust made of elementwise IEEE operations, so a node
//! computes the same outputs from the same inputs whatever its instruction set. The coarse
//! activation scale keeps a row's scale fixed under a last-bit change of its largest value, but an
//! element near a rounding boundary still moves a whole step: inputs must be computed the same way
//! everywhere, which is why the encoder's float work around these layers is Rust too
//! ([`sum_fixed`], [`exp_fixed`]).

use core::ffi::{c_char, c_void, CStr};
use tch::Tensor;

/// Largest weight integer (7 bits).
pub const WEIGHT_MAX: i32 = 63;
/// Largest activation integer magnitude (8 bits, symmetric).
pub const ACTIVATION_MAX: i32 = 127;
/// The unsigned offset activations carry into the product.
const OFFSET: i32 = 128;

unsafe extern "C" {
	fn noderr_int8_pack(
		w: *const i8,
		n: i32,
		k: i32,
		err: *mut c_char,
		err_len: usize,
	) -> *mut c_void;
	fn noderr_int8_gemm(
		packed: *const c_void,
		a: *const u8,
		m: i32,
		k: i32,
		n: i32,
		c: *mut i32,
		err: *mut c_char,
		err_len: usize,
	) -> i32;
	fn noderr_int8_free(packed: *mut c_void);
}

/// The message a shim call left in `err`.
fn message(err: &[c_char]) -> String {
	// SAFETY: the shim writes a NUL-terminated string into the buffer (snprintf), and the buffer
	// starts zeroed, so a NUL is always within it.
	unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned()
}

/// 1.5 * 2^23: adding it to an f32 below 2^22 in magnitude rounds it to an integer (half to
/// even), which then sits in the sum's low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// Round half to even for |v| < 2^22, with two exact f32 additions.
#[inline]
fn round_even(v: f32) -> f32 {
	(v + MAGIC) - MAGIC
}

/// `m / 127` rounded up to 4 significant bits; 1 for an all-zero row.
pub fn activation_scale(max_abs: f32) -> f32 {
	if max_abs == 0.0 {
		return 1.0;
	}
	let s = max_abs / ACTIVATION_MAX as f32;
	const LOW: u32 = (1 << 20) - 1; // the 20 low mantissa bits
	let bits = s.to_bits();
	if bits & LOW == 0 {
		s
	} else {
		f32::from_bits((bits | LOW) + 1)
	}
}

/// Runs `body` compiled for AVX2 where the processor has it (every node that runs int8 layers
/// does: FBGEMM needs it), else as baseline code. The bodies are elementwise IEEE operations
/// and exact integer work, so both compilations give the same results.
macro_rules! with_avx2 {
	($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
		$(#[$doc])*
		pub fn $name($($arg: $ty),*) $(-> $ret)? {
			#[inline(always)]
			fn body($($arg: $ty),*) $(-> $ret)? $body
			#[cfg(target_arch = "x86_64")]
			{
				#[target_feature(enable = "avx2")]
				unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
				if std::arch::is_x86_feature_detected!("avx2") {
					// SAFETY: the processor has AVX2, checked just above.
					return unsafe { avx2($($arg),*) };
				}
			}
			body($($arg),*)
		}
	};
}
pub(crate) use with_avx2;

with_avx2! {
	/// Quantises rows of `k` values to `q + 128` with one scale per row ([`activation_scale`]);
	/// false if a value is not finite.
	fn quantize_rows(xs: &[f32], k: usize, a: &mut [u8], scales: &mut [f32]) -> bool {
		let mut finite = true;
		for ((row, out), scale) in xs.chunks_exact(k).zip(a.chunks_exact_mut(k)).zip(scales.iter_mut()) {
			// The largest magnitude as bits: for non-negative floats the order of the bit
			// patterns is the order of the values (an integer maximum, which vectorises), and
			// infinities and NaNs are the patterns from 0x7f80_0000 up.
			let max_bits = row.iter().fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff));
			finite &= max_bits < 0x7f80_0000;
			let s = activation_scale(f32::from_bits(max_bits));
			let inverse = 1.0 / s;
			let limit = ACTIVATION_MAX as f32;
			for (v, o) in row.iter().zip(out.iter_mut()) {
				let i = round_even(v * inverse).max(-limit).min(limit);
				// i + 128 is an integer in 1..=255: read it from the mantissa bits.
				*o = ((i + OFFSET as f32) + MAGIC).to_bits() as u8;
			}
			*scale = s;
		}
		finite
	}
}

with_avx2! {
	/// `y[r][c] = ((sum[r][c] - offset[c]) * s[r]) * ws[c] + bias[c]`.
	fn scale_rows(sums: &[i32], n: usize, scales: &[f32], offsets: &[i32], ws: &[f32], bias: &[f32], y: &mut [f32]) {
		for ((out, sum), s) in y.chunks_exact_mut(n).zip(sums.chunks_exact(n)).zip(scales) {
			for c in 0..n {
				out[c] = ((sum[c] - offsets[c]) as f32 * s) * ws[c] + bias[c];
			}
		}
	}
}

/// Sum in a fixed order: eight interleaved partial sums, combined pairwise. The order is part of
/// the definition, not left to the compiler, so vector and scalar code give the same result.
#[inline(always)]
pub fn sum_fixed(x: &[f32]) -> f32 {
	let mut acc = [0f32; 8];
	let mut chunks = x.chunks_exact(8);
	for c in &mut chunks {
		for i in 0..8 {
			acc[i] += c[i];
		}
	}
	for (i, v) in chunks.remainder().iter().enumerate() {
		acc[i] += v;
	}
	((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `e^x` from additions, multiplications and exponent bits alone (no library call whose code
/// differs by processor): `2^n * p(f)` with `x log2(e) = n + f`, `|f| <= 1/2`, `p` the degree-6
/// Taylor polynomial of `2^f` (relative error below 2e-7). Inputs are clamped to [-87, 88].
#[inline(always)]
pub fn exp_fixed(x: f32) -> f32 {
	// max and min rather than clamp: no panic path, and they vectorise.
	#[allow(clippy::manual_clamp)]
	let t = x.max(-87.0).min(88.0) * core::f32::consts::LOG2_E;
	let r = t + MAGIC;
	// The integer n sits in the low mantissa bits of r.
	let n = r.to_bits().wrapping_sub(MAGIC.to_bits());
	let f = t - (r - MAGIC);
	let p = 1.0
		+ f * (core::f32::consts::LN_2
			+ f * (0.240_226_5
				+ f * (0.055_504_11
					+ f * (0.009_618_129 + f * (0.001_333_355_8 + f * 0.000_154_035_3)))));
	p * f32::from_bits(n.wrapping_add(127) << 23)
}

with_avx2! {
	/// Layer norm of rows of `width` values, in place: `(x - mean) / sqrt(var + eps) * gamma +
	/// beta`, the mean and variance with [`sum_fixed`].
	fn layer_norm_rows(x: &mut [f32], width: usize, gamma: &[f32], beta: &[f32], eps: f32) {
		let mut dev = vec![0f32; width];
		for row in x.chunks_exact_mut(width) {
			let mean = sum_fixed(row) / width as f32;
			for (d, v) in dev.iter_mut().zip(row.iter()) {
				*d = (v - mean) * (v - mean);
			}
			let inverse = 1.0 / (sum_fixed(&dev) / width as f32 + eps).sqrt();
			for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
				*v = (*v - mean) * inverse * g + b;
			}
		}
	}
}

with_avx2! {
	/// Softmax of rows of `width` values in place, entries where `keep` is false set to 0.
	fn softmax_rows(x: &mut [f32], width: usize, keep: &[bool]) {
		for row in x.chunks_exact_mut(width) {
			let mut max = f32::NEG_INFINITY;
			for (v, k) in row.iter().zip(keep) {
				if *k && *v > max {
					max = *v;
				}
			}
			for (v, k) in row.iter_mut().zip(keep) {
				*v = if *k { exp_fixed(*v - max) } else { 0.0 };
			}
			let inverse = 1.0 / sum_fixed(row);
			for v in row.iter_mut() {
				*v *= inverse;
			}
		}
	}
}

with_avx2! {
	/// GELU in its tanh form, `x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))`, in place.
	fn gelu_in_place(x: &mut [f32]) {
		for v in x.iter_mut() {
			let u = (*v + 0.044_715 * (*v * *v * *v)) * 1.595_769_2;
			*v *= 1.0 / (1.0 + exp_fixed(-u));
		}
	}
}

/// One linear layer `y = x W^T + b` with `W` held as packed 7-bit integers.
#[derive(Debug)]
pub struct Int8Linear {
	packed: *mut c_void,
	out_features: usize,
	in_features: usize,
	/// Per output channel.
	weight_scales: Vec<f32>,
	/// `128 * sum_k q[c][k]`, what the unsigned offset adds to each output's sum.
	offsets: Vec<i32>,
	bias: Vec<f32>,
}

// SAFETY: after construction the packed matrix is only read: each product packs its activations
// into its own buffers and FBGEMM reads the weights without writing them.
unsafe impl Send for Int8Linear {}
unsafe impl Sync for Int8Linear {}

impl Int8Linear {
	/// Quantises and packs `weight` (out x in, finite) with its `bias` (out).
	pub fn new(weight: &Tensor, bias: &Tensor) -> Result<Self, String> {
		let (n, k) = weight.size2().map_err(|e| e.to_string())?;
		let (n, k) = (n as usize, k as usize);
		if bias.size() != [n as i64] {
			return Err(format!("int8 linear {n}x{k}: bias of shape {:?}", bias.size()));
		}
		if n == 0 || k == 0 || n > 1 << 16 || k > 1 << 16 {
			return Err(format!("int8 linear {n}x{k}: sizes outside 1..=65536"));
		}
		let w = super::values(weight);
		let bias = super::values(bias);
		if !w.iter().chain(&bias).all(|v| v.is_finite()) {
			return Err(format!("int8 linear {n}x{k}: non-finite weights"));
		}
		let mut q = vec![0i8; n * k];
		let mut weight_scales = Vec::with_capacity(n);
		let mut offsets = Vec::with_capacity(n);
		for (c, row) in w.chunks_exact(k).enumerate() {
			let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
			let s = if max == 0.0 { 1.0 } else { max / WEIGHT_MAX as f32 };
			let mut sum = 0i32;
			for (j, v) in row.iter().enumerate() {
				let i = (round_even(v / s) as i32).clamp(-WEIGHT_MAX, WEIGHT_MAX);
				q[c * k + j] = i as i8;
				sum += i;
			}
			weight_scales.push(s);
			offsets.push(OFFSET * sum);
		}
		let mut err = [0 as c_char; 512];
		// SAFETY: `q` holds n * k values for the duration of the call; the shim copies them into
		// its packed matrix.
		let packed = unsafe {
			noderr_int8_pack(q.as_ptr(), n as i32, k as i32, err.as_mut_ptr(), err.len())
		};
		if packed.is_null() {
			return Err(format!("int8 linear {n}x{k}: {}", message(&err)));
		}
		Ok(Self { packed, out_features: n, in_features: k, weight_scales, offsets, bias })
	}

	/// Exact sums `a (rows x in, unsigned) * q^T`, row-major (rows x out).
	pub fn integer_products(&self, a: &[u8], rows: usize) -> Result<Vec<i32>, String> {
		let (n, k) = (self.out_features, self.in_features);
		if a.len() != rows * k || rows == 0 || rows > i32::MAX as usize / n.max(k) {
			return Err(format!("int8 linear {n}x{k}: {} inputs for {rows} rows", a.len()));
		}
		let mut c = vec![0i32; rows * n];
		let mut err = [0 as c_char; 512];
		// SAFETY: `a` holds rows * k values and `c` rows * n, as the shim reads and writes them;
		// `self.packed` is live until drop.
		let status = unsafe {
			noderr_int8_gemm(
				self.packed,
				a.as_ptr(),
				rows as i32,
				k as i32,
				n as i32,
				c.as_mut_ptr(),
				err.as_mut_ptr(),
				err.len(),
			)
		};
		if status != 0 {
			return Err(format!("int8 linear {n}x{k}: {}", message(&err)));
		}
		Ok(c)
	}

	/// `x` (..., in) to (..., out), f32.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor, String> {
		let (n, k) = (self.out_features, self.in_features);
		let mut shape = x.size();
		if shape.last().copied() != Some(k as i64) {
			return Err(format!("int8 linear {n}x{k}: input of shape {shape:?}"));
		}
		let y = self.forward_rows(&super::values(x))?;
		*shape.last_mut().expect("non-empty shape") = n as i64;
		Ok(Tensor::from_slice(&y).view(shape.as_slice()))
	}

	/// Rows of `in` values, row-major, to rows of `out` values.
	pub fn forward_rows(&self, xs: &[f32]) -> Result<Vec<f32>, String> {
		let (n, k) = (self.out_features, self.in_features);
		let rows = xs.len() / k;
		if rows == 0 || !xs.len().is_multiple_of(k) {
			return Err(format!("int8 linear {n}x{k}: {} inputs are not whole rows", xs.len()));
		}
		let mut a = vec![0u8; xs.len()];
		let mut scales = vec![0f32; rows];
		if !quantize_rows(xs, k, &mut a, &mut scales) {
			return Err(format!("int8 linear {n}x{k}: non-finite input"));
		}
		let sums = self.integer_products(&a, rows)?;
		let mut y = vec![0f32; rows * n];
		scale_rows(&sums, n, &scales, &self.offsets, &self.weight_scales, &self.bias, &mut y);
		Ok(y)
	}

	/// Bytes of the integer weights, scales, offsets and bias.
	pub fn bytes(&self) -> usize {
		self.out_features * self.in_features + self.out_features * 12
	}
}

impl Drop for Int8Linear {
	fn drop(&mut self) {
		// SAFETY: made by noderr_int8_pack, freed once.
		unsafe { noderr_int8_free(self.packed) }
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use tch::Kind;

	fn rng(seed: &mut u64) -> u64 {
		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		*seed
	}

	/// FBGEMM reads its kernel choice once per process: the test runs itself again in a child
	/// process per kernel choice (`CpuMode`), each checking the sums against plain integers.
	#[test]
	fn integer_products_are_exact_on_every_kernel() {
		use crate::runtime::CpuMode;
		if let Ok(mode) = std::env::var("NODERR_INT8_TEST_MODE") {
			crate::runtime::init_with(CpuMode::parse(&mode).unwrap());
			check_exact_products();
			return;
		}
		let mut modes = vec![CpuMode::Pinned, CpuMode::Default, CpuMode::Avx2];
		if crate::runtime::has_avx512() {
			modes.push(CpuMode::Avx512);
		}
		for mode in modes {
			let out = std::process::Command::new(std::env::current_exe().unwrap())
				.args([
					"--exact",
					"models::int8::tests::integer_products_are_exact_on_every_kernel",
				])
				.args(["--nocapture", "--test-threads", "1"])
				.env("NODERR_INT8_TEST_MODE", mode.name())
				.output()
				.unwrap();
			let text = String::from_utf8_lossy(&out.stdout);
			assert!(
				out.status.success() && text.contains("1 passed"),
				"{}: {text}{}",
				mode.name(),
				String::from_utf8_lossy(&out.stderr)
			);
		}
	}

	fn check_exact_products() {
		// Integer weights whose largest magnitude per row is 63: quantised unchanged.
		let (n, k) = (40, 96);
		let mut seed = 7u64;
		let mut w: Vec<f32> = (0..n * k).map(|_| (rng(&mut seed) % 127) as f32 - 63.0).collect();
		for c in 0..n {
			w[c * k] = if c % 2 == 0 { 63.0 } else { -63.0 };
			// Runs of extreme weights: the pairs AVX2 would saturate with 8-bit weights.
			for j in 1..9 {
				w[c * k + j] = if c % 3 == 0 { -63.0 } else { 63.0 };
			}
		}
		let weight = Tensor::from_slice(&w).view([n as i64, k as i64]);
		let layer =
			Int8Linear::new(&weight, &Tensor::zeros([n as i64], (Kind::Float, tch::Device::Cpu)))
				.unwrap();
		assert!(layer.weight_scales.iter().all(|s| *s == 1.0));
		for rows in [1usize, 3, 17, 64] {
			let mut a: Vec<u8> = (0..rows * k).map(|_| rng(&mut seed) as u8).collect();
			for r in 0..rows {
				for j in 0..9 {
					a[r * k + j] = if r % 2 == 0 { 255 } else { 0 };
				}
			}
			let got = layer.integer_products(&a, rows).unwrap();
			for r in 0..rows {
				for c in 0..n {
					let want: i64 = (0..k).map(|j| a[r * k + j] as i64 * w[c * k + j] as i64).sum();
					assert_eq!(got[r * n + c] as i64, want, "row {r} column {c}");
				}
			}
		}
	}

	#[test]
	fn close_to_the_float_layer_and_repeatable() {
		crate::runtime::init();
		tch::manual_seed(3);
		let w = Tensor::randn([64, 96], (Kind::Float, tch::Device::Cpu)) * 0.1;
		let b = Tensor::randn([64], (Kind::Float, tch::Device::Cpu));
		let x = Tensor::randn([5, 7, 96], (Kind::Float, tch::Device::Cpu));
		let layer = Int8Linear::new(&w, &b).unwrap();
		let y = layer.forward(&x).unwrap();
		assert_eq!(y.size(), vec![5, 7, 64]);
		let reference = x.linear(&w, Some(&b));
		let err = f64::try_from((&y - &reference).abs().max()).unwrap();
		let range = f64::try_from(reference.abs().max()).unwrap();
		// 7-bit weights, 8-bit activations: errors of a few percent of the output range at most.
		assert!(err < 0.05 * range, "error {err} against range {range}");
		assert!(err > 0.0, "an int8 layer that matches f32 exactly is not quantising");
		assert!(layer.forward(&x).unwrap().equal(&y));
		assert_eq!(layer.bytes(), 64 * 96 + 64 * 12);
	}

	#[test]
	fn the_fixed_order_functions_match_their_definitions() {
		for x in [-90.0f32, -87.0, -10.0, -1.0, -1e-3, 0.0, 0.5, 1.0, 3.7, 20.0, 88.0] {
			let (want, got) = (libm::exp(x.max(-87.0) as f64), exp_fixed(x) as f64);
			// The rounding of x log2(e) grows with |x|: 2e-7 near 0, 6e-6 at the ends.
			let bound = if x.abs() <= 10.0 { 4e-7 } else { 1e-5 };
			assert!(((got - want) / want).abs() < bound, "exp({x}) = {got}, not {want}");
		}
		let xs: Vec<f32> = (0..389).map(|i| (i as f32 * 0.37).sin()).collect();
		let exact: f64 = xs.iter().map(|v| *v as f64).sum();
		assert!((sum_fixed(&xs) as f64 - exact).abs() < 1e-4);
		let mut row = vec![1.0f32, 2.0, 3.0, 100.0];
		softmax_rows(&mut row, 4, &[true, true, true, false]);
		let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|v| libm::exp(*v)).collect();
		let total: f64 = e.iter().sum();
		for i in 0..3 {
			assert!((row[i] as f64 - e[i] / total).abs() < 1e-6, "{row:?}");
		}
		assert_eq!(row[3], 0.0);
		let mut g = vec![-3.0f32, -1.0, 0.0, 1.0, 3.0];
		gelu_in_place(&mut g);
		for (x, y) in [-3.0f64, -1.0, 0.0, 1.0, 3.0].iter().zip(&g) {
			let exact = 0.5 * x * (1.0 + libm::erf(x / core::f64::consts::SQRT_2));
			assert!((*y as f64 - exact).abs() < 1e-3, "gelu({x}) = {y}, not {exact}");
		}
		let mut r = vec![1.0f32, 2.0, 3.0, 4.0];
		layer_norm_rows(&mut r, 4, &[1.0; 4], &[0.0; 4], 1e-12);
		let sd = (1.25f32).sqrt();
		for (v, want) in r.iter().zip([-1.5f32, -0.5, 0.5, 1.5]) {
			assert!((v - want / sd).abs() < 1e-6, "{r:?}");
		}
	}

	#[test]
	fn the_activation_scale_is_coarse_and_never_too_small() {
		for m in [1e-30f32, 0.37, 1.0, 3.0, 127.0, 1e30] {
			let s = activation_scale(m);
			assert!(s >= m / 127.0 && s <= m / 127.0 * 1.125, "{m}: {s}");
			assert_eq!(s.to_bits() & ((1 << 20) - 1), 0, "{m}: more than 4 significant bits");
			// A last-bit change of the row's largest value keeps the scale, unless m / 127 sits
			// exactly on one of the 16 steps per power of two (127 does).
			if s != m / 127.0 {
				assert_eq!(activation_scale(f32::from_bits(m.to_bits() + 1)), s, "{m}");
				assert_eq!(activation_scale(f32::from_bits(m.to_bits() - 1)), s, "{m}");
			}
		}
		assert_eq!(activation_scale(0.0), 1.0);
	}

	#[test]
	fn bad_shapes_and_values_are_errors_not_crashes() {
		crate::runtime::init();
		let zeros = |s: &[i64]| Tensor::zeros(s, (Kind::Float, tch::Device::Cpu));
		assert!(Int8Linear::new(&zeros(&[4, 8]), &zeros(&[3])).unwrap_err().contains("bias"));
		let nan = Tensor::from_slice(&[f32::NAN; 8]).view([1, 8]);
		assert!(Int8Linear::new(&nan, &zeros(&[1])).unwrap_err().contains("non-finite"));
		let layer = Int8Linear::new(&zeros(&[4, 8]), &zeros(&[4])).unwrap();
		assert!(layer.forward(&zeros(&[2, 5])).unwrap_err().contains("input of shape"));
		assert!(layer.forward_rows(&[0.0; 12]).unwrap_err().contains("whole rows"));
		let bad = Tensor::from_slice(&[1.0f32, f32::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
		assert!(layer.forward(&bad.view([1, 8])).unwrap_err().contains("non-finite input"));
		assert!(layer.integer_products(&[0u8; 7], 1).is_err());
	}
}
