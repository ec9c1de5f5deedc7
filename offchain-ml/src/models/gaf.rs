//! The GAF regime classifier: a window of 64 closes -> two 64x64 Gramian Angular Field images
//! (summation GASF and difference GADF) -> a small CNN -> four regimes.
//!
//! GAF images: [`crate::pipeline::gaf_image`].
//!
//! CNN: three blocks of 3x3 convolution (8, 16, 32 channels, padding 1), ReLU and 2x2 max
//! pooling (64 -> 32 -> 16 -> 8), global average pooling, a linear layer to 4 logits. Training
//! runs it in tch ([`GafCnn`]); inference runs the same network in Rust ([`GafNet`]), in f32 with
//! every sum in an order the code fixes and fused multiply-adds, so its outputs are the same on
//! every processor, and faster than libtorch's convolutions at this size.
//!
//! Labelling rule (for training and evaluation), for the window ending at bar t, looking at the
//! next `HORIZON` bars: R = ln(c_{t+H} / c_t), V = std of the H one-bar log returns after t.
//! The regime is `volatile` if V exceeds the 80th percentile of V over the training period,
//! else `bull` if R > tau, `bear` if R < -tau, else `sideways`, where tau is the median of |R|
//! over the training windows that are not volatile. Both thresholds are stored in the manifest.

use crate::artifact::Weights;
use tch::{nn, nn::Module, Tensor};

pub use crate::pipeline::gaf_image::gaf_images;

pub const WINDOW: usize = 64;
pub const HORIZON: usize = 24;
pub const LABELS: [&str; 4] = ["bull", "bear", "sideways", "volatile"];

/// The regime classifier.
#[derive(Debug)]
pub struct GafCnn {
	convs: Vec<nn::Conv2D>,
	head: nn::Linear,
}

impl GafCnn {
	pub fn new(p: &nn::Path) -> Self {
		let cfg = nn::ConvConfig { padding: 1, ..Default::default() };
		let channels = [2, 8, 16, 32];
		Self {
			convs: (0..3)
				.map(|i| nn::conv2d(p / format!("conv{i}"), channels[i], channels[i + 1], 3, cfg))
				.collect(),
			head: nn::linear(p / "head", 32, LABELS.len() as i64, Default::default()),
		}
	}

	/// Images (batch, 2, 64, 64) to logits (batch, 4).
	pub fn forward(&self, x: &Tensor) -> Tensor {
		let mut h = x.shallow_clone();
		for conv in &self.convs {
			h = conv.forward(&h).relu().max_pool2d_default(2);
		}
		self.head.forward(&h.mean_dim([2i64, 3].as_slice(), false, h.kind()))
	}
}

/// Channels of the network's feature maps: the two GAF images, then each convolution's output.
const CHANNELS: [usize; 4] = [2, 8, 16, 32];

/// One 3x3 convolution with its weights laid out for the Rust forward pass.
struct Conv {
	/// `[ky][kx][ci][co]`.
	weight: Vec<f32>,
	bias: Vec<f32>,
}

/// The regime classifier for inference: [`GafCnn`]'s network in Rust.
///
/// Feature maps are stored pixel by pixel with the channels of a pixel together, with a border
/// of zeros one pixel wide (the convolutions' padding). Each output of a convolution is its
/// bias plus the products over (ky, kx, ci) in that order, each added by a fused multiply-add,
/// so the result is fixed by the code: the AVX2 path and the portable one give the same bits
/// (`f32::mul_add` is exactly rounded everywhere). ReLU and 2x2 max pooling are one step (the
/// largest of four values, then at least zero, which is ReLU before pooling); the global average
/// and the head are sums in index order; the softmax is in f64 with `libm`'s exponential.
pub struct GafNet {
	convs: [Conv; 3],
	/// `[label][channel]`.
	head_weight: Vec<f32>,
	head_bias: Vec<f32>,
}

impl GafNet {
	/// From an artifact's tensors, which must be [`GafCnn`]'s, every value finite.
	pub fn from_weights(weights: &Weights) -> Result<Self, String> {
		let weights = super::CheckedWeights::new(weights, |p| {
			let _ = GafCnn::new(p);
		})?;
		let get = |name: &str| weights.get(name);
		let conv = |i: usize| -> Result<Conv, String> {
			let (cin, cout) = (CHANNELS[i], CHANNELS[i + 1]);
			// tch's layout is [co][ci][ky][kx].
			let w = get(&format!("conv{i}.weight"))?;
			let mut weight = vec![0f32; 9 * cin * cout];
			for co in 0..cout {
				for ci in 0..cin {
					for tap in 0..9 {
						weight[(tap * cin + ci) * cout + co] = w[(co * cin + ci) * 9 + tap];
					}
				}
			}
			Ok(Conv { weight, bias: get(&format!("conv{i}.bias"))?.to_vec() })
		};
		Ok(Self {
			convs: [conv(0)?, conv(1)?, conv(2)?],
			head_weight: get("head.weight")?.to_vec(),
			head_bias: get("head.bias")?.to_vec(),
		})
	}

	/// Class probabilities of the window `closes` (`WINDOW` values).
	pub fn probabilities(&self, closes: &[f64]) -> Vec<f32> {
		#[cfg(target_arch = "x86_64")]
		if super::has_avx2_fma() {
			// SAFETY: the processor has AVX2 and FMA, checked just above.
			return unsafe { self.probabilities_avx2(closes) };
		}
		self.probabilities_portable(closes)
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx2,fma")]
	unsafe fn probabilities_avx2(&self, closes: &[f64]) -> Vec<f32> {
		self.forward(closes)
	}

	fn probabilities_portable(&self, closes: &[f64]) -> Vec<f32> {
		self.forward(closes)
	}

	#[inline(always)]
	fn forward(&self, closes: &[f64]) -> Vec<f32> {
		let n = closes.len();
		let images = gaf_images(closes);
		let mut map = vec![0f32; (n + 2) * (n + 2) * 2];
		for c in 0..2 {
			for i in 0..n {
				for j in 0..n {
					map[((i + 1) * (n + 2) + j + 1) * 2 + c] = images[c * n * n + i * n + j];
				}
			}
		}
		let [c0, c1, c2] = &self.convs;
		let map = conv_relu_pool::<2, 8, 8>(&map, n, c0);
		let map = conv_relu_pool::<8, 16, 4>(&map, n / 2, c1);
		let map = conv_relu_pool::<16, 32, 2>(&map, n / 4, c2);
		// Global average over the inner pixels, then the head.
		let side = n / 8;
		let mut mean = [0f32; 32];
		for y in 0..side {
			for x in 0..side {
				let px = &map[((y + 1) * (side + 2) + x + 1) * 32..][..32];
				for (m, v) in mean.iter_mut().zip(px) {
					*m += v;
				}
			}
		}
		let pixels = (side * side) as f32;
		for m in &mut mean {
			*m /= pixels;
		}
		let logits: Vec<f64> = self
			.head_bias
			.iter()
			.enumerate()
			.map(|(k, b)| {
				let w = &self.head_weight[k * 32..][..32];
				w.iter().zip(&mean).fold(*b, |acc, (w, m)| w.mul_add(*m, acc)) as f64
			})
			.collect();
		let top = logits.iter().copied().fold(f64::MIN, f64::max);
		let exps: Vec<f64> = logits.iter().map(|l| libm::exp(l - top)).collect();
		let total: f64 = exps.iter().sum();
		exps.iter().map(|e| (e / total) as f32).collect()
	}
}

/// A 3x3 convolution (padding 1) of the bordered `side` x `side` map `input` with `CIN`
/// channels, then ReLU and 2x2 max pooling, into a bordered (`side` / 2)-square map of `COUT`
/// channels. `PX` neighbouring pixels are computed together so that each weight loaded serves
/// `PX` outputs; the sums themselves do not depend on it.
#[inline(always)]
fn conv_relu_pool<const CIN: usize, const COUT: usize, const PX: usize>(
	input: &[f32],
	side: usize,
	conv: &Conv,
) -> Vec<f32> {
	let (stride, half) = (side + 2, side / 2);
	let mut out = vec![0f32; (half + 2) * (half + 2) * COUT];
	let weight = &conv.weight[..9 * CIN * COUT];
	let bias: &[f32; COUT] = conv.bias[..COUT].try_into().expect("COUT biases");
	// Two rows of convolution outputs, pooled once both are done.
	let mut rows = vec![[0f32; COUT]; 2 * side];
	for y2 in 0..half {
		for r in 0..2 {
			let y = 2 * y2 + r;
			for x0 in (0..side).step_by(PX) {
				let mut acc = [*bias; PX];
				for ky in 0..3 {
					for kx in 0..3 {
						let base = ((y + ky) * stride + x0 + kx) * CIN;
						let pixels = &input[base..base + PX * CIN];
						let taps = &weight[(ky * 3 + kx) * CIN * COUT..][..CIN * COUT];
						for ci in 0..CIN {
							let w: &[f32; COUT] =
								taps[ci * COUT..(ci + 1) * COUT].try_into().expect("COUT weights");
							for p in 0..PX {
								let a = pixels[p * CIN + ci];
								for co in 0..COUT {
									acc[p][co] = a.mul_add(w[co], acc[p][co]);
								}
							}
						}
					}
				}
				rows[r * side + x0..r * side + x0 + PX].copy_from_slice(&acc);
			}
		}
		for x2 in 0..half {
			let o = &mut out[((y2 + 1) * (half + 2) + x2 + 1) * COUT..][..COUT];
			let (a, b) = (&rows[2 * x2], &rows[2 * x2 + 1]);
			let (c, d) = (&rows[side + 2 * x2], &rows[side + 2 * x2 + 1]);
			for co in 0..COUT {
				o[co] = a[co].max(b[co]).max(c[co]).max(d[co]).max(0.0);
			}
		}
	}
	out
}

/// Label of the window ending at bar `t` given the thresholds, or `None` near the series' end.
pub fn label(closes: &[f64], t: usize, vol_threshold: f64, tau: f64) -> Option<usize> {
	let (r, v) = forward_stats(closes, t)?;
	Some(if v > vol_threshold {
		3
	} else if r > tau {
		0
	} else if r < -tau {
		1
	} else {
		2
	})
}

/// Forward return and volatility over the `HORIZON` bars after `t`.
pub fn forward_stats(closes: &[f64], t: usize) -> Option<(f64, f64)> {
	if t + HORIZON >= closes.len() {
		return None;
	}
	let rets: Vec<f64> =
		(t + 1..=t + HORIZON).map(|i| libm::log(closes[i] / closes[i - 1])).collect();
	let mean = rets.iter().sum::<f64>() / HORIZON as f64;
	let var = rets.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / HORIZON as f64;
	Some((libm::log(closes[t + HORIZON] / closes[t]), libm::sqrt(var)))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn random_walk(seed: u64, n: usize) -> Vec<f64> {
		let mut state = seed;
		let mut price = 100.0;
		(0..n)
			.map(|_| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				price *= 1.0 + ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.04;
				price
			})
			.collect()
	}

	fn trained_like() -> (nn::VarStore, GafCnn) {
		tch::manual_seed(11);
		let vs = nn::VarStore::new(tch::Device::Cpu);
		let cnn = GafCnn::new(&vs.root());
		(vs, cnn)
	}

	#[test]
	fn the_rust_network_computes_what_the_tch_one_does() {
		let (vs, cnn) = trained_like();
		let net = GafNet::from_weights(&super::super::weights_of(&vs)).unwrap();
		for seed in 0..20 {
			let closes = random_walk(seed, WINDOW);
			let w = WINDOW as i64;
			let x = Tensor::from_slice(&gaf_images(&closes)).view([1, 2, w, w]);
			let expected = super::super::values(&cnn.forward(&x).softmax(1, tch::Kind::Float));
			let got = net.probabilities(&closes);
			for (g, e) in got.iter().zip(&expected) {
				assert!((g - e).abs() < 1e-5, "window {seed}: {got:?} against tch's {expected:?}");
			}
		}
	}

	#[test]
	fn every_code_path_gives_the_same_bits() {
		let (vs, _) = trained_like();
		let net = GafNet::from_weights(&super::super::weights_of(&vs)).unwrap();
		for seed in 0..20 {
			let closes = random_walk(seed, WINDOW);
			assert_eq!(net.probabilities(&closes), net.probabilities_portable(&closes));
		}
	}

	#[test]
	fn wrong_weights_are_refused_by_name() {
		let (vs, _) = trained_like();
		let good = super::super::weights_of(&vs);
		let mut nan = good.clone();
		let i = nan.iter().position(|(n, _, _)| n == "conv1.weight").unwrap();
		nan[i].2[5] = f32::NAN;
		let err = GafNet::from_weights(&nan).err().unwrap();
		assert_eq!(err, "tensor conv1.weight: value 5 is NaN");
		let mut missing = good.clone();
		missing.retain(|(n, _, _)| n != "head.bias");
		assert!(GafNet::from_weights(&missing).err().unwrap().contains("tensors"));
		let mut shape = good;
		let i = shape.iter().position(|(n, _, _)| n == "conv0.bias").unwrap();
		shape[i].1 = vec![4, 2];
		assert!(GafNet::from_weights(&shape).err().unwrap().contains("conv0.bias"));
	}
}
