//! The price Transformer: a window of the feature pipeline, shape (batch, 60, 94), to the next
//! bar's log return (mean and volatility of a Gaussian) and a confidence (probability that the
//! return's sign is the one predicted).
//!
//! Architecture: standardised features (training mean and std, clipped to +-10) -> linear
//! projection to `d_model` plus a learned position embedding -> `layers` pre-norm Transformer
//! encoder blocks (multi-head self-attention with `heads` heads, GELU feed-forward of width
//! `ff`) -> final layer norm -> the last position and the mean over positions, concatenated ->
//! linear head with three outputs: mean `mu` (per cent), `log_sigma` (per cent, clamped to
//! [-6, 4]) and the logit of `P(return > 0)`.
//!
//! Training loss: Gaussian negative log-likelihood of the realised return plus half the binary
//! cross-entropy of its sign.
//!
//! Training runs the network in tch ([`PriceTransformer`]); inference runs it in Rust
//! ([`PriceNet`]) with every sum in an order the code fixes, so its outputs are the same on every
//! processor.

use crate::artifact::Weights;
use tch::{nn, nn::Module, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceConfig {
	pub window: i64,
	pub features: i64,
	pub d_model: i64,
	pub heads: i64,
	pub layers: i64,
	pub ff: i64,
}

impl PriceConfig {
	/// Checks that the architecture is buildable and of a sane size, before anything is
	/// allocated: an artifact's configuration is untrusted input.
	pub fn validate(&self) -> Result<(), String> {
		let within = |name: &str, v: i64, max: i64| {
			if (1..=max).contains(&v) {
				Ok(())
			} else {
				Err(format!("config {name} = {v} is outside 1..={max}"))
			}
		};
		within("window", self.window, 1024)?;
		within("d_model", self.d_model, 1024)?;
		within("heads", self.heads, 64)?;
		within("layers", self.layers, 16)?;
		within("ff", self.ff, 8192)?;
		if self.features != crate::features::FEATURE_COUNT as i64 {
			return Err(format!(
				"config features = {}, the pipeline computes {}",
				self.features,
				crate::features::FEATURE_COUNT
			));
		}
		if self.d_model % self.heads != 0 {
			return Err(format!(
				"d_model {} is not a multiple of heads {}",
				self.d_model, self.heads
			));
		}
		Ok(())
	}
}

impl Default for PriceConfig {
	fn default() -> Self {
		Self { window: 60, features: 94, d_model: 32, heads: 4, layers: 2, ff: 64 }
	}
}

#[derive(Debug)]
struct Block {
	ln1: nn::LayerNorm,
	qkv: nn::Linear,
	out: nn::Linear,
	ln2: nn::LayerNorm,
	ff1: nn::Linear,
	ff2: nn::Linear,
	heads: i64,
}

impl Block {
	fn new(p: nn::Path, d: i64, heads: i64, ff: i64) -> Self {
		let ln = || nn::LayerNormConfig::default();
		Self {
			ln1: nn::layer_norm(&p / "ln1", vec![d], ln()),
			qkv: nn::linear(&p / "qkv", d, 3 * d, Default::default()),
			out: nn::linear(&p / "out", d, d, Default::default()),
			ln2: nn::layer_norm(&p / "ln2", vec![d], ln()),
			ff1: nn::linear(&p / "ff1", d, ff, Default::default()),
			ff2: nn::linear(&p / "ff2", ff, d, Default::default()),
			heads,
		}
	}

	fn forward(&self, x: &Tensor) -> Tensor {
		let (b, t, d) = x.size3().expect("batch, time, model");
		let dh = d / self.heads;
		let qkv = self.qkv.forward(&self.ln1.forward(x)).view([b, t, 3, self.heads, dh]);
		let qkv = qkv.permute([2, 0, 3, 1, 4]);
		let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
		let attn = Tensor::scaled_dot_product_attention(
			&q,
			&k,
			&v,
			None::<Tensor>,
			0.0,
			false,
			None,
			false,
		);
		let attn = attn.transpose(1, 2).contiguous().view([b, t, d]);
		let x = x + self.out.forward(&attn);
		let y = self.ff2.forward(&self.ff1.forward(&self.ln2.forward(&x)).gelu("none"));
		x + y
	}
}

/// The price Transformer.
#[derive(Debug)]
pub struct PriceTransformer {
	pub config: PriceConfig,
	input: nn::Linear,
	position: Tensor,
	blocks: Vec<Block>,
	norm: nn::LayerNorm,
	head: nn::Linear,
}

impl PriceTransformer {
	pub fn new(p: &nn::Path, config: PriceConfig) -> Self {
		let d = config.d_model;
		Self {
			config,
			input: nn::linear(p / "input", config.features, d, Default::default()),
			position: p.var(
				"position",
				&[config.window, d],
				nn::Init::Randn { mean: 0.0, stdev: 0.02 },
			),
			blocks: (0..config.layers)
				.map(|i| Block::new(p / format!("block{i}"), d, config.heads, config.ff))
				.collect(),
			norm: nn::layer_norm(p / "norm", vec![d], Default::default()),
			head: nn::linear(p / "head", 2 * d, 3, Default::default()),
		}
	}

	/// Standardised input (batch, window, features) to raw outputs (batch, 3):
	/// `mu`, `log_sigma`, `logit_up`.
	pub fn forward(&self, x: &Tensor) -> Tensor {
		let mut h = self.input.forward(x) + &self.position;
		for block in &self.blocks {
			h = block.forward(&h);
		}
		let h = self.norm.forward(&h);
		let last = h.select(1, -1);
		let mean = h.mean_dim(1, false, h.kind());
		let out = self.head.forward(&Tensor::cat(&[last, mean], 1));
		let mu = out.narrow(1, 0, 1);
		let log_sigma = out.narrow(1, 1, 1).clamp(-6.0, 4.0);
		Tensor::cat(&[mu, log_sigma, out.narrow(1, 2, 1)], 1)
	}
}

/// Layer norm's epsilon (tch's default, as [`PriceTransformer`] trains with).
const LN_EPS: f32 = 1e-5;
/// Positions computed together: activations are stored feature by feature, each a row of the
/// window's positions padded to a multiple of this, so that every inner loop is a multiply-add
/// over a whole block of positions held in registers.
const LANES: usize = 64;

/// A linear layer, `[output][input]` weights as tch stores them.
struct Linear {
	weight: Vec<f32>,
	bias: Vec<f32>,
}

impl Linear {
	/// Feature-major `x` (the layer's inputs, `cols` positions each) to feature-major outputs:
	/// each the bias plus the products over the inputs in index order, each added by a fused
	/// multiply-add.
	/// `fma`: whether the processor has AVX2 and FMA (checked by [`PriceNet::forward`]).
	#[inline(always)]
	fn columns(&self, x: &[f32], cols: usize, fma: bool) -> Vec<f32> {
		let n = self.bias.len();
		let k = self.weight.len() / n;
		let mut out = vec![0f32; n * cols];
		for block in (0..cols).step_by(LANES) {
			for (o, (w, b)) in self.weight.chunks_exact(k).zip(&self.bias).enumerate() {
				let out = &mut out[o * cols + block..][..LANES];
				sum_block(w, x, cols, block, *b, fma, out.try_into().expect("block"));
			}
		}
		out
	}
}

/// `out = bias + sum_i w[i] x[i]` over a block of positions, `x` feature-major with rows of
/// `cols` (at least `w.len()` rows); `fma`: whether the processor has AVX2 and FMA.
#[inline(always)]
fn sum_block(
	w: &[f32],
	x: &[f32],
	cols: usize,
	block: usize,
	bias: f32,
	fma: bool,
	out: &mut [f32; LANES],
) {
	assert!(x.len() >= w.len() * cols && block + LANES <= cols, "rows of the block's width");
	#[cfg(target_arch = "x86_64")]
	if fma {
		// SAFETY: `fma` is true only when the processor has AVX2 and FMA; the reads stay
		// inside `x`, asserted above.
		unsafe { block_fma(w, x, cols, block, bias, out) };
		return;
	}
	block_portable(w, x, cols, block, bias, out);
}

/// One output of a linear layer for a block of positions: `bias + sum_i w[i] x[i]` in index
/// order by fused multiply-adds, `x` feature-major with rows of `cols`.
fn block_portable(
	w: &[f32],
	x: &[f32],
	cols: usize,
	block: usize,
	bias: f32,
	out: &mut [f32; LANES],
) {
	*out = [bias; LANES];
	for (i, w) in w.iter().enumerate() {
		for (o, x) in out.iter_mut().zip(&x[i * cols + block..][..LANES]) {
			*o = w.mul_add(*x, *o);
		}
	}
}

/// [`block_portable`] with the block's sums held in AVX registers: the same fused
/// multiply-adds in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_fma(
	w: &[f32],
	x: &[f32],
	cols: usize,
	block: usize,
	bias: f32,
	out: &mut [f32; LANES],
) {
	use core::arch::x86_64::*;
	let mut acc = [_mm256_set1_ps(bias); LANES / 8];
	for (i, w) in w.iter().enumerate() {
		let w = _mm256_set1_ps(*w);
		let row = x[i * cols + block..][..LANES].as_ptr();
		for (l, a) in acc.iter_mut().enumerate() {
			*a = _mm256_fmadd_ps(w, _mm256_loadu_ps(row.add(8 * l)), *a);
		}
	}
	for (l, a) in acc.iter().enumerate() {
		_mm256_storeu_ps(out.as_mut_ptr().add(8 * l), *a);
	}
}

struct Norm {
	gamma: Vec<f32>,
	beta: Vec<f32>,
}

impl Norm {
	/// Layer norm of every position of feature-major `x`: mean and variance over the features
	/// in index order.
	#[inline(always)]
	fn columns(&self, x: &[f32], cols: usize) -> Vec<f32> {
		let d = self.gamma.len();
		let mut out = vec![0f32; d * cols];
		for block in (0..cols).step_by(LANES) {
			let row = |f: usize| -> &[f32; LANES] {
				x[f * cols + block..][..LANES].try_into().expect("block")
			};
			let mut mean = [0f32; LANES];
			for f in 0..d {
				for (m, v) in mean.iter_mut().zip(row(f)) {
					*m += v;
				}
			}
			for m in &mut mean {
				*m /= d as f32;
			}
			let mut var = [0f32; LANES];
			for f in 0..d {
				for ((s, v), m) in var.iter_mut().zip(row(f)).zip(&mean) {
					*s += (v - m) * (v - m);
				}
			}
			let mut inverse = [0f32; LANES];
			for (i, s) in inverse.iter_mut().zip(&var) {
				*i = 1.0 / (s / d as f32 + LN_EPS).sqrt();
			}
			for (f, (g, b)) in self.gamma.iter().zip(&self.beta).enumerate() {
				let o = &mut out[f * cols + block..][..LANES];
				for (((o, v), m), i) in o.iter_mut().zip(row(f)).zip(&mean).zip(&inverse) {
					*o = (v - m) * i * g + b;
				}
			}
		}
		out
	}
}

/// GELU in its erf form, as the model trains, with erf from Abramowitz and Stegun 7.1.26
/// (absolute error below 1.5e-7) on [`super::int8::exp_fixed`].
#[inline(always)]
fn gelu(x: f32) -> f32 {
	let z = (x * core::f32::consts::FRAC_1_SQRT_2).abs();
	let t = 1.0 / (1.0 + 0.327_591_1 * z);
	let poly = t
		* (0.254_829_6
			+ t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
	let erf = 1.0 - poly * super::int8::exp_fixed(-z * z);
	0.5 * x * (1.0 + if x < 0.0 { -erf } else { erf })
}

struct NetBlock {
	ln1: Norm,
	qkv: Linear,
	out: Linear,
	ln2: Norm,
	ff1: Linear,
	ff2: Linear,
}

/// The price Transformer for inference: [`PriceTransformer`]'s network in Rust, f32.
///
/// Every output is computed by operations in an order the code fixes: linear layers add their
/// products in input order by fused multiply-adds (`f32::mul_add` is exactly rounded
/// everywhere, so the AVX2 path and the portable one give the same bits), layer norm and softmax
/// sum in index order, the exponential is [`super::int8::exp_fixed`] and GELU's erf a
/// polynomial on it. Activations are feature-major with the positions padded to [`LANES`]; the
/// padding is never read by a real position (attention and pooling stop at the window).
pub struct PriceNet {
	config: PriceConfig,
	input: Linear,
	/// `[window][d_model]`.
	position: Vec<f32>,
	blocks: Vec<NetBlock>,
	norm: Norm,
	head: Linear,
}

impl PriceNet {
	/// From an artifact's tensors, which must be [`PriceTransformer`]'s for `config` (already
	/// validated), every value finite.
	pub fn from_weights(weights: &Weights, config: PriceConfig) -> Result<Self, String> {
		let weights = super::CheckedWeights::new(weights, |p| {
			let _ = PriceTransformer::new(p, config);
		})?;
		let get = |name: &str| weights.get(name).map(<[f32]>::to_vec);
		let linear = |name: &str| -> Result<Linear, String> {
			Ok(Linear {
				weight: get(&format!("{name}.weight"))?,
				bias: get(&format!("{name}.bias"))?,
			})
		};
		let norm = |name: &str| -> Result<Norm, String> {
			Ok(Norm { gamma: get(&format!("{name}.weight"))?, beta: get(&format!("{name}.bias"))? })
		};
		let blocks = (0..config.layers)
			.map(|i| {
				let b = format!("block{i}");
				Ok(NetBlock {
					ln1: norm(&format!("{b}.ln1"))?,
					qkv: linear(&format!("{b}.qkv"))?,
					out: linear(&format!("{b}.out"))?,
					ln2: norm(&format!("{b}.ln2"))?,
					ff1: linear(&format!("{b}.ff1"))?,
					ff2: linear(&format!("{b}.ff2"))?,
				})
			})
			.collect::<Result<_, String>>()?;
		Ok(Self {
			config,
			input: linear("input")?,
			position: get("position")?,
			blocks,
			norm: norm("norm")?,
			head: linear("head")?,
		})
	}

	/// Raw outputs `mu`, `log_sigma` (clamped to [-6, 4]) and `logit_up` of one standardised
	/// input of `window` rows of `features` values.
	pub fn forward(&self, x: &[f32]) -> [f32; 3] {
		#[cfg(target_arch = "x86_64")]
		if super::has_avx2_fma() {
			// SAFETY: the processor has AVX2 and FMA, checked just above.
			return unsafe { self.forward_avx2(x) };
		}
		self.forward_portable(x)
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx2,fma")]
	unsafe fn forward_avx2(&self, x: &[f32]) -> [f32; 3] {
		self.forward_body(x, true)
	}

	fn forward_portable(&self, x: &[f32]) -> [f32; 3] {
		self.forward_body(x, false)
	}

	/// `fma`: whether the processor has AVX2 and FMA.
	#[inline(always)]
	fn forward_body(&self, x: &[f32], fma: bool) -> [f32; 3] {
		let c = self.config;
		let (t, d, features) = (c.window as usize, c.d_model as usize, c.features as usize);
		let (heads, cols) = (c.heads as usize, t.div_ceil(LANES) * LANES);
		let dh = d / heads;
		let scale = 1.0 / (dh as f32).sqrt();
		let mut xt = vec![0f32; features * cols];
		for (p, row) in x.chunks_exact(features).enumerate() {
			for (f, v) in row.iter().enumerate() {
				xt[f * cols + p] = *v;
			}
		}
		let mut h = self.input.columns(&xt, cols, fma);
		for (p, row) in self.position.chunks_exact(d).enumerate() {
			for (f, v) in row.iter().enumerate() {
				h[f * cols + p] += v;
			}
		}
		// Attention scores, key by key: `scores[j]` holds key j's score for every query.
		let mut scores = vec![0f32; t * cols];
		for block in &self.blocks {
			let qkv = block.qkv.columns(&block.ln1.columns(&h, cols), cols, fma);
			let mut attn = vec![0f32; d * cols];
			for head in 0..heads {
				let row = |part: usize, e: usize| &qkv[(part * d + head * dh + e) * cols..][..cols];
				let queries = &qkv[head * dh * cols..];
				for (j, s) in scores.chunks_exact_mut(cols).enumerate() {
					let key: Vec<f32> = (0..dh).map(|e| row(1, e)[j]).collect();
					for block in (0..cols).step_by(LANES) {
						let s: &mut [f32; LANES] =
							(&mut s[block..block + LANES]).try_into().expect("block");
						sum_block(&key, queries, cols, block, 0.0, fma, s);
						for s in s.iter_mut() {
							*s *= scale;
						}
					}
				}
				softmax_over_keys(&mut scores, cols);
				for e in 0..dh {
					let values = &row(2, e)[..t];
					let out = &mut attn[(head * dh + e) * cols..][..cols];
					for block in (0..cols).step_by(LANES) {
						let out: &mut [f32; LANES] =
							(&mut out[block..block + LANES]).try_into().expect("block");
						sum_block(values, &scores, cols, block, 0.0, fma, out);
					}
				}
			}
			for (h, a) in h.iter_mut().zip(block.out.columns(&attn, cols, fma)) {
				*h += a;
			}
			let mut f = block.ff1.columns(&block.ln2.columns(&h, cols), cols, fma);
			for v in &mut f {
				*v = gelu(*v);
			}
			for (h, f) in h.iter_mut().zip(block.ff2.columns(&f, cols, fma)) {
				*h += f;
			}
		}
		let h = self.norm.columns(&h, cols);
		// The last position and the mean over the window's positions, then the head.
		let pooled: Vec<f32> = (0..d)
			.map(|f| h[f * cols + t - 1])
			.chain((0..d).map(|f| h[f * cols..][..t].iter().sum::<f32>() / t as f32))
			.collect();
		let out: Vec<f32> = self
			.head
			.weight
			.chunks_exact(2 * d)
			.zip(&self.head.bias)
			.map(|(w, b)| w.iter().zip(&pooled).fold(*b, |acc, (w, p)| w.mul_add(*p, acc)))
			.collect();
		[out[0], out[1].clamp(-6.0, 4.0), out[2]]
	}
}

/// Softmax over the keys for every query: `scores` holds one row of `cols` queries per key.
#[inline(always)]
fn softmax_over_keys(scores: &mut [f32], cols: usize) {
	let mut max = scores[..cols].to_vec();
	for s in scores.chunks_exact(cols).skip(1) {
		for (m, s) in max.iter_mut().zip(s) {
			*m = m.max(*s);
		}
	}
	let mut total = vec![0f32; cols];
	for s in scores.chunks_exact_mut(cols) {
		for ((s, m), t) in s.iter_mut().zip(&max).zip(total.iter_mut()) {
			*s = super::int8::exp_fixed(*s - m);
			*t += *s;
		}
	}
	for t in total.iter_mut() {
		*t = 1.0 / *t;
	}
	for s in scores.chunks_exact_mut(cols) {
		for (s, t) in s.iter_mut().zip(&total) {
			*s *= t;
		}
	}
}

/// Per-sample training loss: Gaussian NLL of `target` (per cent) plus half the BCE of its sign.
pub fn loss(out: &Tensor, target: &Tensor) -> Tensor {
	let mu = out.select(1, 0);
	let log_sigma = out.select(1, 1);
	let var2 = (&log_sigma * 2.0).exp() * 2.0;
	let nll = &log_sigma + (target - &mu).square() / var2;
	let up = target.gt(0.0).to_kind(tch::Kind::Float);
	let bce = out.select(1, 2).binary_cross_entropy_with_logits::<Tensor>(
		&up,
		None,
		None,
		tch::Reduction::None,
	);
	(nll + bce * 0.5).mean(tch::Kind::Float)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn network() -> (nn::VarStore, PriceTransformer) {
		tch::manual_seed(5);
		let vs = nn::VarStore::new(tch::Device::Cpu);
		let model = PriceTransformer::new(&vs.root(), PriceConfig::default());
		(vs, model)
	}

	fn input(seed: u64) -> Vec<f32> {
		let c = PriceConfig::default();
		let mut state = seed.wrapping_add(1);
		(0..c.window * c.features)
			.map(|_| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0
			})
			.collect()
	}

	#[test]
	fn the_rust_network_computes_what_the_tch_one_does() {
		let (vs, model) = network();
		let net = PriceNet::from_weights(&super::super::weights_of(&vs), model.config).unwrap();
		let c = model.config;
		for seed in 0..10 {
			let x = input(seed);
			let expected = super::super::values(
				&model.forward(&Tensor::from_slice(&x).view([1, c.window, c.features])),
			);
			let got = net.forward(&x);
			for (g, e) in got.iter().zip(&expected) {
				assert!((g - e).abs() < 1e-4, "input {seed}: {got:?} against tch's {expected:?}");
			}
		}
	}

	#[test]
	fn every_code_path_gives_the_same_bits() {
		let (vs, model) = network();
		let net = PriceNet::from_weights(&super::super::weights_of(&vs), model.config).unwrap();
		for seed in 0..5 {
			let x = input(seed);
			assert_eq!(net.forward(&x), net.forward_portable(&x));
		}
	}

	#[test]
	fn wrong_weights_are_refused_by_name() {
		let (vs, model) = network();
		let mut bad = super::super::weights_of(&vs);
		let i = bad.iter().position(|(n, _, _)| n == "block1.ff2.weight").unwrap();
		bad[i].2[3] = f32::INFINITY;
		let err = PriceNet::from_weights(&bad, model.config).err().unwrap();
		assert_eq!(err, "tensor block1.ff2.weight: value 3 is inf");
	}
}
