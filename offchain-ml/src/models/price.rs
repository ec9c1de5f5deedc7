//! The price Transformer: a window of the feature pipeline, shape (batch, 60, 94), to the next
//! bar's log return: the mean and volatility of a Gaussian, and a confidence (the probability
//! that the return's sign is the one predicted).
//!
//! An anchored model ([`Anchor`], the published one) reads the window in units of its own
//! scale: the square root of the mean of two variance forecasts from the window's one-bar
//! returns, their exponentially weighted mean square (RiskMetrics' decay) and their plain mean
//! square, as random walks whose variance follows recent volatility use them. Features in
//! return units are divided by that scale, then standardised (training mean and std, clipped to
//! +-10); the network answers a mean `m` (clamped to [-`MEAN_LIMIT`, `MEAN_LIMIT`]) and a log
//! volatility `z`, both in units of the scale. The
//! answer is `mu = scale m`, `sigma = scale e^z`, the direction is the sign of `mu` and the
//! confidence `Phi(|m| / e^z)`, so direction, return and confidence always agree, and a network
//! answering zeros is exactly that random walk. One model thus serves hourly and daily bars,
//! calm and wild assets alike: it is trained on several series and scored on one it never saw.
//!
//! Architecture: standardised features -> linear projection to `d_model` plus a learned
//! position embedding -> `layers` pre-norm Transformer encoder blocks (multi-head
//! self-attention with `heads` heads, GELU feed-forward of width `ff`) -> final layer norm ->
//! the last position and the mean over positions, concatenated -> linear head.
//!
//! Training loss: Gaussian negative log-likelihood of the realised return in units of the
//! window's scale. (Models from before the anchor read unscaled features and have a third
//! output, the logit of `P(return > 0)`, trained with half the binary cross-entropy of the
//! sign; they still load and answer as they did.)
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
	/// Head outputs: 3 (`mu`, `log_sigma`, `logit_up`) for a model that reads the window as it
	/// is, 2 (mean and log volatility in units of the window's scale) for an anchored one
	/// ([`Anchor`]). Artifacts from before the anchored models have no such field and three.
	#[serde(default = "three")]
	pub outputs: i64,
}

fn three() -> i64 {
	3
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
		if !(2..=3).contains(&self.outputs) {
			return Err(format!("config outputs = {} is neither 2 nor 3", self.outputs));
		}
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
		Self { window: 60, features: 94, d_model: 32, heads: 4, layers: 2, ff: 64, outputs: 2 }
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

/// An anchored head starts at zero, so that the untrained network is exactly the window-scale
/// random walk and training only moves it where the data says to.
fn head_init(outputs: i64) -> nn::LinearConfig {
	if outputs == 2 {
		let zero = nn::Init::Const(0.0);
		nn::LinearConfig { ws_init: zero, bs_init: Some(zero), bias: true }
	} else {
		Default::default()
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
			head: nn::linear(p / "head", 2 * d, config.outputs, head_init(config.outputs)),
		}
	}

	/// Standardised input (batch, window, features) to raw outputs (batch, outputs): the mean,
	/// the log volatility clamped to [-6, 4], and for three outputs `logit_up`.
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
		let rest = out.narrow(1, 2, self.config.outputs - 2);
		Tensor::cat(&[mu, log_sigma, rest], 1)
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

	/// Raw outputs of one standardised input of `window` rows of `features` values, as
	/// [`PriceTransformer::forward`] gives them: the mean, the log volatility (clamped to
	/// [-6, 4]) and for a three-output head `logit_up`.
	pub fn forward(&self, x: &[f32]) -> Vec<f32> {
		#[cfg(target_arch = "x86_64")]
		if super::has_avx2_fma() {
			// SAFETY: the processor has AVX2 and FMA, checked just above.
			return unsafe { self.forward_avx2(x) };
		}
		self.forward_portable(x)
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx2,fma")]
	unsafe fn forward_avx2(&self, x: &[f32]) -> Vec<f32> {
		self.forward_body(x, true)
	}

	fn forward_portable(&self, x: &[f32]) -> Vec<f32> {
		self.forward_body(x, false)
	}

	/// `fma`: whether the processor has AVX2 and FMA.
	#[inline(always)]
	fn forward_body(&self, x: &[f32], fma: bool) -> Vec<f32> {
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
		let mut out: Vec<f32> = self
			.head
			.weight
			.chunks_exact(2 * d)
			.zip(&self.head.bias)
			.map(|(w, b)| w.iter().zip(&pooled).fold(*b, |acc, (w, p)| w.mul_add(*p, acc)))
			.collect();
		out[1] = out[1].clamp(-6.0, 4.0);
		out
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

/// Largest mean an anchored model answers, in units of the window's scale.
pub const MEAN_LIMIT: f64 = 0.5;

/// Features in return units: log returns and their volatilities, price distances relative to
/// the close, band widths and oscillators of price changes. An anchored model divides them by
/// the window's scale; the others (bounded oscillators, positions in a band, volume ratios,
/// bar shapes) are unitless already.
pub const RETURN_UNIT_FEATURES: [&str; 54] = [
	"ret_1",
	"ret_2",
	"ret_3",
	"ret_5",
	"ret_8",
	"ret_10",
	"ret_15",
	"ret_20",
	"ret_30",
	"ret_60",
	"vol_5",
	"vol_10",
	"vol_20",
	"vol_60",
	"parkinson_10",
	"parkinson_20",
	"garman_klass_20",
	"atr_14",
	"bb_wband_20",
	"kc_wband_20",
	"dc_wband_20",
	"ulcer_14",
	"roc_10",
	"roc_20",
	"ao_5_34",
	"kama_10_2_30",
	"ppo_12_26",
	"ppo_signal_9",
	"ppo_hist",
	"sma_rel_5",
	"sma_rel_10",
	"sma_rel_20",
	"sma_rel_50",
	"ema_rel_5",
	"ema_rel_10",
	"ema_rel_20",
	"ema_rel_50",
	"macd_12_26",
	"macd_signal_9",
	"macd_diff",
	"dpo_20",
	"trix_15",
	"kst",
	"kst_signal",
	"ichimoku_conv_9",
	"ichimoku_base_26",
	"force_index_13",
	"vwap_14",
	"range",
	"gap",
	"high_change",
	"low_change",
	"dist_high_20",
	"dist_low_20",
];

/// How an anchored model reads its window (the artifact's `params.anchor`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
	/// Decay of the exponentially weighted mean of squared one-bar returns.
	pub lambda: f64,
	/// Weight of the window's plain mean square of one-bar returns in the scale's square, the
	/// rest being the exponentially weighted mean: recent bars count most, the whole window
	/// steadies the scale where volatility clusters over longer spans (daily bars).
	pub blend: f64,
	/// Smallest scale, in log-return units: a window of unchanged closes has no scale of its
	/// own.
	pub floor: f64,
	/// Features divided by the scale, by catalogue name.
	pub scaled: Vec<String>,
}

impl Default for Anchor {
	fn default() -> Self {
		let scaled = RETURN_UNIT_FEATURES.iter().map(|s| s.to_string()).collect();
		Self { lambda: crate::evaluate::EWMA_LAMBDA, blend: 0.5, floor: 1e-5, scaled }
	}
}

/// An [`Anchor`] checked against the catalogue, ready to use.
#[derive(Clone, Debug)]
pub struct Scaling {
	lambda: f64,
	blend: f64,
	floor: f64,
	/// Per feature: divided by the scale or not.
	scaled: Vec<bool>,
	/// Column of `ret_1`.
	ret_1: usize,
}

impl Scaling {
	/// Checks an artifact's anchor, untrusted input: a decay in (0, 1), a positive finite floor,
	/// and known, distinct feature names.
	pub fn new(anchor: &Anchor) -> Result<Self, String> {
		if !(anchor.lambda > 0.0 && anchor.lambda < 1.0) {
			return Err(format!("anchor lambda {} is outside (0, 1)", anchor.lambda));
		}
		if !(0.0..=1.0).contains(&anchor.blend) {
			return Err(format!("anchor blend {} is outside [0, 1]", anchor.blend));
		}
		if !(anchor.floor.is_finite() && anchor.floor > 0.0) {
			return Err(format!("anchor floor {} is not a positive number", anchor.floor));
		}
		let index = |name: &str| {
			crate::features::FEATURES.iter().position(|f| f.name == name).ok_or_else(|| {
				format!("anchor scales {name:?}, which the pipeline does not compute")
			})
		};
		let mut scaled = vec![false; crate::features::FEATURE_COUNT];
		for name in &anchor.scaled {
			let i = index(name)?;
			if std::mem::replace(&mut scaled[i], true) {
				return Err(format!("anchor scales {name:?} twice"));
			}
		}
		Ok(Self {
			lambda: anchor.lambda,
			blend: anchor.blend,
			floor: anchor.floor,
			scaled,
			ret_1: index("ret_1")?,
		})
	}

	/// The window's scale in log-return units: the square root of a blend of the exponentially
	/// weighted mean of its rows' squared `ret_1` (started from their plain mean square) and
	/// that plain mean square, at least the floor. It forecasts the variance of the return after
	/// the window's last bar from the returns up to it, as the RiskMetrics and rolling-variance
	/// random walks do.
	pub fn scale(&self, rows: &[f64]) -> f64 {
		let n = crate::features::FEATURE_COUNT;
		let r2 = |row: &[f64]| row[self.ret_1] * row[self.ret_1];
		let count = rows.len() / n;
		let ms = rows.chunks_exact(n).map(r2).sum::<f64>() / count.max(1) as f64;
		let mut v = ms;
		for row in rows.chunks_exact(n) {
			v = self.lambda * v + (1.0 - self.lambda) * r2(row);
		}
		let v = (1.0 - self.blend) * v + self.blend * ms;
		libm::sqrt(v).max(self.floor)
	}

	/// Divides the return-unit features of `rows` by `scale`, in place.
	pub fn apply(&self, rows: &mut [f64], scale: f64) {
		let n = crate::features::FEATURE_COUNT;
		for (i, v) in rows.iter_mut().enumerate() {
			if self.scaled[i % n] {
				*v /= scale;
			}
		}
	}
}

/// An anchored model's raw outputs `[m, z]` and its window's scale to the answer: mean and
/// volatility in log-return units and the probability of a rise.
pub fn anchored_answer(out: &[f32], scale: f64) -> (f64, f64, f64) {
	let m = (out[0] as f64).clamp(-MEAN_LIMIT, MEAN_LIMIT);
	let ratio = libm::exp(out[1] as f64);
	let p_up = 0.5 * (1.0 + libm::erf(m / (ratio * core::f64::consts::SQRT_2)));
	(scale * m, scale * ratio, p_up)
}

/// Per-sample training loss of an anchored model: Gaussian NLL (without its constant) of
/// `target`, the return in units of its window's scale, under the clamped mean and `e^z`.
pub fn anchored_loss(out: &Tensor, target: &Tensor) -> Tensor {
	let m = out.select(1, 0).clamp(-MEAN_LIMIT, MEAN_LIMIT);
	let z = out.select(1, 1);
	let var2 = (&z * 2.0).exp() * 2.0;
	(&z + (target - &m).square() / var2).mean(tch::Kind::Float)
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

	fn scaling() -> Scaling {
		Scaling::new(&Anchor::default()).unwrap()
	}

	/// Bars whose log prices are `k` times those of a fixed random walk with moves of about
	/// half a per cent, volumes unchanged.
	fn walk(k: f64) -> Vec<crate::features::Bar> {
		let mut rng = crate::heldout::SplitMix::new(11);
		let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
		let mut x = 0.0;
		(0..crate::features::bars_needed(200))
			.map(|_| {
				let open = x + 0.002 * u();
				x += 0.01 * u();
				let (hi, lo) = (open.max(x) + 0.003 * u().abs(), open.min(x) - 0.003 * u().abs());
				let p = |v: f64| 100.0 * libm::exp(k * v);
				crate::features::Bar {
					open: p(open),
					high: p(hi),
					low: p(lo),
					close: p(x),
					volume: 1000.0 * (1.5 + u()),
				}
			})
			.collect()
	}

	#[test]
	fn return_unit_features_double_with_the_moves_and_the_others_do_not() {
		// Doubling every log move doubles a feature in return units and leaves a unitless one
		// about where it was: the list of scaled features is the right one.
		let (a, b) = (
			crate::features::window_features(&walk(1.0), 200).unwrap(),
			crate::features::window_features(&walk(2.0), 200).unwrap(),
		);
		let s = scaling();
		let mut wrong = Vec::new();
		for (j, f) in crate::features::FEATURES.iter().enumerate() {
			let rms = |v: &[f64]| {
				libm::sqrt(v.chunks_exact(FEATURE_COUNT).map(|r| r[j] * r[j]).sum::<f64>() / 200.0)
			};
			let ratio = rms(&b) / rms(&a).max(1e-300);
			let fits = if s.scaled[j] {
				(1.8..2.2).contains(&ratio)
			} else {
				rms(&a) < 1e-12 || (0.6..1.6).contains(&ratio)
			};
			if !fits {
				wrong.push(format!("{} (scaled: {}, ratio {ratio:.3})", f.name, s.scaled[j]));
			}
		}
		assert!(wrong.is_empty(), "{wrong:?}");
	}

	use crate::features::FEATURE_COUNT;

	#[test]
	fn the_scale_follows_the_window_returns_and_has_a_floor() {
		let s = scaling();
		let mut rows = vec![0.0; 60 * FEATURE_COUNT];
		assert_eq!(s.scale(&rows), 1e-5);
		for (i, row) in rows.chunks_exact_mut(FEATURE_COUNT).enumerate() {
			row[s.ret_1] = if i % 2 == 0 { 0.02 } else { -0.02 };
		}
		assert!((s.scale(&rows) - 0.02).abs() < 1e-15);
		// A jump in the last return: the plain mean square is (59 0.02^2 + 0.1^2) / 60 =
		// 0.00056; the weighted one starts there, decays towards 0.02^2 over 59 rows, then takes
		// 6% of 0.1^2: 0.00097992. Half of each: sqrt(0.00076996) = 0.027748.
		rows[59 * FEATURE_COUNT + s.ret_1] = 0.1;
		assert!((s.scale(&rows) - 0.027_748).abs() < 1e-5, "{}", s.scale(&rows));
		let mut scaled = rows.clone();
		s.apply(&mut scaled, 0.5);
		for (i, (a, b)) in rows.iter().zip(&scaled).enumerate() {
			let expected = if s.scaled[i % FEATURE_COUNT] { a / 0.5 } else { *a };
			assert_eq!(*b, expected);
		}
	}

	#[test]
	fn bad_anchors_are_refused() {
		let with = |f: &dyn Fn(&mut Anchor)| {
			let mut a = Anchor::default();
			f(&mut a);
			Scaling::new(&a).err().unwrap()
		};
		assert_eq!(with(&|a| a.lambda = 1.0), "anchor lambda 1 is outside (0, 1)");
		assert_eq!(with(&|a| a.blend = -0.5), "anchor blend -0.5 is outside [0, 1]");
		assert_eq!(with(&|a| a.floor = f64::NAN), "anchor floor NaN is not a positive number");
		assert_eq!(
			with(&|a| a.scaled.push("ret_7".into())),
			"anchor scales \"ret_7\", which the pipeline does not compute"
		);
		assert_eq!(with(&|a| a.scaled.push("gap".into())), "anchor scales \"gap\" twice");
	}

	#[test]
	fn an_anchored_answer_agrees_with_itself() {
		// Zeros are the window-scale random walk.
		assert_eq!(anchored_answer(&[0.0, 0.0], 0.03), (0.0, 0.03, 0.5));
		for (m, z) in [(0.2f32, -0.5f32), (-0.3, 0.4), (3.0, 0.0), (-7.0, 1.0)] {
			let (mu, sigma, p_up) = anchored_answer(&[m, z], 0.01);
			assert!(mu.abs() <= MEAN_LIMIT * 0.01 + 1e-18, "the mean is clamped");
			assert_eq!(mu > 0.0, p_up > 0.5, "direction follows the mean");
			assert!((sigma - 0.01 * libm::exp(z as f64)).abs() < 1e-15);
		}
		// Half a volatility up is a rise with probability Phi(0.5).
		let (_, _, p) = anchored_answer(&[0.5, 0.0], 1.0);
		assert!((p - 0.691_462_461_274_013_1).abs() < 1e-12);
	}

	#[test]
	fn the_anchored_loss_is_the_gaussian_nll_in_scale_units() {
		let out = Tensor::from_slice(&[0.1f32, -0.2, 2.0, 0.3]).view([2, 2]);
		let y = Tensor::from_slice(&[0.5f32, -1.0]);
		let got = anchored_loss(&out, &y).double_value(&[]);
		let nll = |y: f64, m: f64, z: f64| z + (y - m).powi(2) / (2.0 * libm::exp(2.0 * z));
		let expected = (nll(0.5, 0.1, -0.2) + nll(-1.0, 0.5, 0.3)) / 2.0;
		assert!((got - expected).abs() < 1e-5, "{got} against {expected}");
	}
}
