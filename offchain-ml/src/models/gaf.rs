//! The GAF regime classifier: a window of 64 closes -> two 64x64 Gramian Angular Field images
//! (summation GASF and difference GADF) -> a small CNN -> the volatility outlook of the next
//! `HORIZON` bars: calming, steady or heating.
//!
//! GAF images: [`crate::pipeline::gaf_image`].
//!
//! CNN: three blocks of 3x3 convolution (8, 16, 32 channels, padding 1), ReLU and 2x2 max
//! pooling (64 -> 32 -> 16 -> 8), then a linear head over the whole last map (8 x 8 pixels x 32
//! channels, [`Head::Positional`]), so the head knows where in the window a pattern lies: a
//! burst of large moves at the window's end means something else than one at its start.
//! Training runs it in tch ([`GafCnn`]); inference runs the same network in Rust ([`GafNet`]),
//! in f32 with every sum in an order the code fixes and fused multiply-adds, so its outputs are
//! the same on every processor, and faster than libtorch's convolutions at this size.
//!
//! Labelling rule ([`Labelling::Outlook`]), for the window ending at bar t: x = ln(sd of the
//! `HORIZON` one-bar log returns after t / sd of the `HORIZON` up to t). The class is `calming`
//! below the first tercile of x over the training windows, `heating` above the second, else
//! `steady`; the two terciles are stored in the manifest (`stats.outlook_terciles`). The ratio
//! has no unit, so the same rule labels hourly and daily bars. Whether volatility is about to
//! rise or fall is worth knowing (position sizing, option pricing, the price model's own
//! uncertainty), and the window informs it: volatility clusters and reverts.
//!
//! The first published classifier answered four classes of the next bars' direction and
//! volatility (bull / bear / sideways / volatile, [`Labelling::Legacy`]) from the global
//! average of the last map ([`Head::Pooled`]); it learned nothing a constant does not, since
//! the sign of the next day is not in the window. Such artifacts still load and answer.

use crate::artifact::Weights;
use std::collections::BTreeMap;
use tch::{nn, nn::Module, Tensor};

pub use crate::pipeline::gaf_image::gaf_images;

pub const WINDOW: usize = 64;
pub const HORIZON: usize = 24;
/// The volatility outlook's classes.
pub const LABELS: [&str; 3] = ["calming", "steady", "heating"];
/// The first published classifier's classes.
pub const LEGACY_LABELS: [&str; 4] = ["bull", "bear", "sideways", "volatile"];
/// Side of the last feature map.
const SIDE: usize = WINDOW / 8;
/// Segments of the window's one-bar returns in its volatility profile, and their length.
const SEGMENTS: usize = 7;
const SEGMENT: usize = (WINDOW - 1) / SEGMENTS;
/// Values of the volatility profile ([`volatility_profile`]).
pub const PROFILE: usize = SEGMENTS + 1;
/// Bound of each profile value.
const PROFILE_LIMIT: f64 = 4.0;

/// What the head reads from the last feature map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
	/// The global average of each channel, to the four legacy classes.
	Pooled,
	/// Every pixel of every channel, to the outlook's three classes.
	Positional,
}

impl Head {
	/// The head of a classifier with these labels.
	pub fn of_labels<S: AsRef<str>>(labels: &[S]) -> Result<Self, String> {
		let given: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
		match given.as_slice() {
			l if l == LABELS => Ok(Head::Positional),
			l if l == LEGACY_LABELS => Ok(Head::Pooled),
			l => Err(format!("labels {l:?}, this node reports {LABELS:?} (or {LEGACY_LABELS:?})")),
		}
	}

	/// The labels a classifier with this head answers, in class order.
	pub fn labels(self) -> &'static [&'static str] {
		match self {
			Head::Pooled => &LEGACY_LABELS,
			Head::Positional => &LABELS,
		}
	}

	/// Inputs of the linear head.
	fn inputs(self) -> usize {
		match self {
			Head::Pooled => 32,
			Head::Positional => 32 * SIDE * SIDE + PROFILE,
		}
	}
}

/// The regime classifier.
#[derive(Debug)]
pub struct GafCnn {
	convs: Vec<nn::Conv2D>,
	head: nn::Linear,
	kind: Head,
}

impl GafCnn {
	pub fn new(p: &nn::Path, kind: Head) -> Self {
		let cfg = nn::ConvConfig { padding: 1, ..Default::default() };
		let channels = [2, 8, 16, 32];
		let (inputs, classes) = (kind.inputs() as i64, kind.labels().len() as i64);
		Self {
			convs: (0..3)
				.map(|i| nn::conv2d(p / format!("conv{i}"), channels[i], channels[i + 1], 3, cfg))
				.collect(),
			head: nn::linear(p / "head", inputs, classes, Default::default()),
			kind,
		}
	}

	/// Images (batch, 2, 64, 64) and volatility profiles (batch, `PROFILE`; unread by the
	/// pooled head) to logits (batch, classes).
	pub fn forward(&self, images: &Tensor, profiles: &Tensor) -> Tensor {
		self.forward_t(images, profiles, 0.0)
	}

	/// [`GafCnn::forward`] in training, with dropout of probability `dropout` on the map's
	/// values that reach the positional head.
	pub fn forward_t(&self, images: &Tensor, profiles: &Tensor, dropout: f64) -> Tensor {
		let mut h = images.shallow_clone();
		for conv in &self.convs {
			h = conv.forward(&h).relu().max_pool2d_default(2);
		}
		match self.kind {
			Head::Pooled => self.head.forward(&h.mean_dim([2i64, 3].as_slice(), false, h.kind())),
			Head::Positional => {
				let map = h.flatten(1, -1).dropout(dropout, dropout > 0.0);
				self.head.forward(&Tensor::cat(&[map, profiles.shallow_clone()], 1))
			}
		}
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
/// largest of four values, then at least zero, which is ReLU before pooling); the head's inputs
/// (the last map's pixels in row order with their channels together, or the channels' global
/// averages) and its sums are in index order; the softmax is in f64 with `libm`'s exponential.
pub struct GafNet {
	convs: [Conv; 3],
	kind: Head,
	/// `[label][input]`, inputs in the order [`GafNet::head_inputs`] gives them.
	head_weight: Vec<f32>,
	head_bias: Vec<f32>,
}

impl GafNet {
	/// From an artifact's tensors, which must be those of [`GafCnn`] with head `kind`, every
	/// value finite.
	pub fn from_weights(weights: &Weights, kind: Head) -> Result<Self, String> {
		let weights = super::CheckedWeights::new(weights, |p| {
			let _ = GafCnn::new(p, kind);
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
		let head = get("head.weight")?;
		let head_weight = match kind {
			Head::Pooled => head.to_vec(),
			Head::Positional => {
				// tch flattens the map [channel][y][x]; the Rust inputs are [y][x][channel].
				// The profile follows the map in both.
				let (inputs, pixels) = (kind.inputs(), SIDE * SIDE);
				let mut w = head.to_vec();
				for k in 0..kind.labels().len() {
					for c in 0..32 {
						for px in 0..pixels {
							w[k * inputs + px * 32 + c] = head[k * inputs + c * pixels + px];
						}
					}
				}
				w
			}
		};
		Ok(Self {
			convs: [conv(0)?, conv(1)?, conv(2)?],
			kind,
			head_weight,
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

	/// The head's inputs from the last (bordered, `SIDE`-square, 32-channel) map and the
	/// window's closes.
	#[inline(always)]
	fn head_inputs(&self, map: &[f32], closes: &[f64]) -> Vec<f32> {
		let pixel = |y: usize, x: usize| &map[((y + 1) * (SIDE + 2) + x + 1) * 32..][..32];
		match self.kind {
			Head::Positional => {
				let mut inputs = Vec::with_capacity(self.kind.inputs());
				for y in 0..SIDE {
					for x in 0..SIDE {
						inputs.extend_from_slice(pixel(y, x));
					}
				}
				inputs.extend_from_slice(&volatility_profile(closes));
				inputs
			}
			Head::Pooled => {
				let mut mean = vec![0f32; 32];
				for y in 0..SIDE {
					for x in 0..SIDE {
						for (m, v) in mean.iter_mut().zip(pixel(y, x)) {
							*m += v;
						}
					}
				}
				let pixels = (SIDE * SIDE) as f32;
				for m in &mut mean {
					*m /= pixels;
				}
				mean
			}
		}
	}

	#[inline(always)]
	fn forward(&self, closes: &[f64]) -> Vec<f32> {
		let n = closes.len();
		debug_assert_eq!(n, WINDOW);
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
		let inputs = self.head_inputs(&map, closes);
		let logits: Vec<f64> = self
			.head_bias
			.iter()
			.enumerate()
			.map(|(k, b)| {
				let w = &self.head_weight[k * inputs.len()..][..inputs.len()];
				w.iter().zip(&inputs).fold(*b, |acc, (w, x)| w.mul_add(*x, acc)) as f64
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

/// How the windows of a classifier are labelled, from its manifest's stats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Labelling {
	/// The volatility outlook, by the training terciles of [`outlook`].
	Outlook { terciles: [f64; 2] },
	/// The legacy rule: `volatile` if the next bars' volatility exceeds `vol_threshold`, else
	/// `bull` / `bear` / `sideways` by their log return against `tau`.
	Legacy { vol_threshold: f64, tau: f64 },
}

impl Labelling {
	/// The rule a classifier with head `kind` was trained on, from its manifest's stats.
	pub fn from_stats(kind: Head, stats: &BTreeMap<String, Vec<f64>>) -> Result<Self, String> {
		let get = |name: &str, len: usize| -> Result<&[f64], String> {
			match stats.get(name) {
				Some(v) if v.len() == len && v.iter().all(|x| x.is_finite()) => Ok(v),
				_ => Err(format!("stats.{name}: {len} finite values needed")),
			}
		};
		Ok(match kind {
			Head::Positional => {
				let t = get("outlook_terciles", 2)?;
				if t[0] > t[1] {
					return Err(format!("stats.outlook_terciles {t:?} are not in order"));
				}
				Labelling::Outlook { terciles: [t[0], t[1]] }
			}
			Head::Pooled => Labelling::Legacy {
				vol_threshold: get("volatility_threshold", 1)?[0],
				tau: get("tau", 1)?[0],
			},
		})
	}

	/// Label of the window ending at bar `t`, or `None` if the series does not hold the bars
	/// the rule reads.
	pub fn label(&self, closes: &[f64], t: usize) -> Option<usize> {
		match *self {
			Labelling::Outlook { terciles } => Some(tercile(outlook(closes, t)?, terciles)),
			Labelling::Legacy { vol_threshold, tau } => {
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
		}
	}
}

/// 0 below the first tercile, 2 above the second, else 1.
pub fn tercile(x: f64, terciles: [f64; 2]) -> usize {
	if x < terciles[0] {
		0
	} else if x <= terciles[1] {
		1
	} else {
		2
	}
}

/// One-bar log returns of consecutive closes: element `i` is the return into `closes[i + 1]`.
fn log_returns(closes: &[f64]) -> Vec<f64> {
	closes.windows(2).map(|w| libm::log(w[1] / w[0])).collect()
}

/// Population standard deviation of `rets`.
fn sd(rets: &[f64]) -> f64 {
	let mean = rets.iter().sum::<f64>() / rets.len() as f64;
	libm::sqrt(rets.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / rets.len() as f64)
}

/// Population standard deviation of the one-bar log returns ending at bars `from..=to`.
fn return_sd(closes: &[f64], from: usize, to: usize) -> f64 {
	sd(&log_returns(&closes[from - 1..=to]))
}

/// ln of the ratio of two standard deviations; a flat side counts as far below the other
/// (two flat sides: no change).
fn log_ratio(num: f64, den: f64) -> f64 {
	match (num > 0.0, den > 0.0) {
		(true, true) => libm::log(num / den),
		(false, false) => 0.0,
		(true, false) => f64::MAX,
		(false, true) => f64::MIN,
	}
}

/// The outlook of the window ending at bar `t`: ln(sd of the `HORIZON` one-bar log returns after
/// `t` / sd of the `HORIZON` up to `t`), or `None` if the series does not hold them.
pub fn outlook(closes: &[f64], t: usize) -> Option<f64> {
	if t < HORIZON || t + HORIZON >= closes.len() {
		return None;
	}
	Some(log_ratio(return_sd(closes, t + 1, t + HORIZON), return_sd(closes, t + 1 - HORIZON, t)))
}

/// The baseline rule's reading of a window of `WINDOW` closes: ln(sd of all its one-bar log
/// returns / sd of its last `HORIZON`). Volatility reverts, so a high value (the latest bars
/// calmer than the window) foretells heating; the rule's classes are the training terciles of
/// this value.
pub fn volatility_ratio(window: &[f64]) -> f64 {
	ratio_of_returns(&log_returns(window))
}

/// [`volatility_ratio`] from the window's one-bar log returns.
fn ratio_of_returns(rets: &[f64]) -> f64 {
	log_ratio(sd(rets), sd(&rets[rets.len() - HORIZON..]))
}

/// The volatility profile of a window of `WINDOW` closes, the head's inputs beside the map: for
/// each of `SEGMENTS` runs of `SEGMENT` one-bar log returns in order, ln(their root mean square /
/// that of all the window's returns), then [`volatility_ratio`]; each value bounded to
/// +-`PROFILE_LIMIT` (a flat run reads as the lower bound; a flat window as zeros). Computed in
/// f64 with `libm`, so the same bits on every processor.
pub fn volatility_profile(window: &[f64]) -> [f32; PROFILE] {
	let rets = log_returns(window);
	let rms = |r: &[f64]| libm::sqrt(r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64);
	let all = rms(&rets);
	let bound = |x: f64| x.clamp(-PROFILE_LIMIT, PROFILE_LIMIT) as f32;
	let mut out = [0f32; PROFILE];
	for (k, o) in out.iter_mut().take(SEGMENTS).enumerate() {
		*o = bound(log_ratio(rms(&rets[k * SEGMENT..(k + 1) * SEGMENT]), all));
	}
	out[SEGMENTS] = bound(ratio_of_returns(&rets));
	out
}

/// Forward return and volatility over the `HORIZON` bars after `t`.
pub fn forward_stats(closes: &[f64], t: usize) -> Option<(f64, f64)> {
	if t + HORIZON >= closes.len() {
		return None;
	}
	Some((libm::log(closes[t + HORIZON] / closes[t]), return_sd(closes, t + 1, t + HORIZON)))
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

	fn trained_like(kind: Head) -> (nn::VarStore, GafCnn) {
		tch::manual_seed(11);
		let vs = nn::VarStore::new(tch::Device::Cpu);
		let cnn = GafCnn::new(&vs.root(), kind);
		(vs, cnn)
	}

	#[test]
	fn the_rust_network_computes_what_the_tch_one_does() {
		for kind in [Head::Positional, Head::Pooled] {
			let (vs, cnn) = trained_like(kind);
			let net = GafNet::from_weights(&super::super::weights_of(&vs), kind).unwrap();
			for seed in 0..20 {
				let closes = random_walk(seed, WINDOW);
				let w = WINDOW as i64;
				let x = Tensor::from_slice(&gaf_images(&closes)).view([1, 2, w, w]);
				let profile = Tensor::from_slice(&volatility_profile(&closes)).view([1, -1]);
				let logits = cnn.forward(&x, &profile);
				let expected = super::super::values(&logits.softmax(1, tch::Kind::Float));
				let got = net.probabilities(&closes);
				assert_eq!(got.len(), kind.labels().len());
				for (g, e) in got.iter().zip(&expected) {
					assert!((g - e).abs() < 1e-5, "{kind:?} {seed}: {got:?} against {expected:?}");
				}
			}
		}
	}

	#[test]
	fn every_code_path_gives_the_same_bits() {
		for kind in [Head::Positional, Head::Pooled] {
			let (vs, _) = trained_like(kind);
			let net = GafNet::from_weights(&super::super::weights_of(&vs), kind).unwrap();
			for seed in 0..20 {
				let closes = random_walk(seed, WINDOW);
				assert_eq!(net.probabilities(&closes), net.probabilities_portable(&closes));
			}
		}
	}

	#[test]
	fn wrong_weights_are_refused_by_name() {
		let (vs, _) = trained_like(Head::Positional);
		let good = super::super::weights_of(&vs);
		let mut nan = good.clone();
		let i = nan.iter().position(|(n, _, _)| n == "conv1.weight").unwrap();
		nan[i].2[5] = f32::NAN;
		let err = GafNet::from_weights(&nan, Head::Positional).err().unwrap();
		assert_eq!(err, "tensor conv1.weight: value 5 is NaN");
		let mut missing = good.clone();
		missing.retain(|(n, _, _)| n != "head.bias");
		let err = GafNet::from_weights(&missing, Head::Positional).err().unwrap();
		assert!(err.contains("tensors"), "{err}");
		let mut shape = good.clone();
		let i = shape.iter().position(|(n, _, _)| n == "conv0.bias").unwrap();
		shape[i].1 = vec![4, 2];
		let err = GafNet::from_weights(&shape, Head::Positional).err().unwrap();
		assert!(err.contains("conv0.bias"), "{err}");
		// A positional head's weights are not a pooled head's.
		let err = GafNet::from_weights(&good, Head::Pooled).err().unwrap();
		assert!(err.contains("tensor head."), "{err}");
	}

	#[test]
	fn labels_name_the_head() {
		assert_eq!(Head::of_labels(&LABELS), Ok(Head::Positional));
		assert_eq!(Head::of_labels(&LEGACY_LABELS), Ok(Head::Pooled));
		let err = Head::of_labels(&["up", "down"]).unwrap_err();
		assert!(err.contains("\"up\"") && err.contains("calming"), "{err}");
	}

	#[test]
	fn the_outlook_compares_the_next_bars_with_the_last() {
		// Moves of 1% up to bar 69, then of 3%: the window ending at bar 69 is heating by ln 3.
		let mut closes = vec![100.0];
		for i in 1..130 {
			let step: f64 = if i < 70 { 0.01 } else { 0.03 };
			let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
			closes.push(closes[i - 1] * libm::exp(sign * step));
		}
		let x = outlook(&closes, 69).unwrap();
		assert!((x - libm::log(3.0)).abs() < 1e-9, "{x}");
		assert!(outlook(&closes, 30).unwrap().abs() < 1e-9);
		let rule = Labelling::Outlook { terciles: [-0.1, 0.1] };
		assert_eq!(rule.label(&closes, 69), Some(2));
		assert_eq!(rule.label(&closes, 30), Some(1));
		assert_eq!(rule.label(&closes, 100), Some(1));
		// Too near either end of the series to be labelled.
		assert_eq!(rule.label(&closes, HORIZON - 1), None);
		assert_eq!(rule.label(&closes, 130 - HORIZON), None);
		// Flat stretches: a flat past and a moving future is heating, both flat is steady.
		let flat = vec![100.0; 100];
		assert_eq!(rule.label(&flat, 40), Some(1));
		let mut waking = flat.clone();
		waking[50] = 101.0;
		assert_eq!(rule.label(&waking, 40), Some(2));
		assert_eq!(rule.label(&waking, 70), Some(0));
		// The baseline rule reads a ratio inside the window: level where every move is alike,
		// below zero where the last bars moved three times as much as the earlier ones.
		assert!(volatility_ratio(&closes[6..=69]).abs() < 1e-3);
		assert!(volatility_ratio(&closes[30..=93]) < -0.3);
	}

	#[test]
	fn the_profile_reads_where_the_window_moved() {
		// Moves of 1%, except 3% in the fourth run of returns.
		let mut closes = vec![100.0];
		for i in 1..WINDOW {
			let big = (3 * SEGMENT + 1..=4 * SEGMENT).contains(&i);
			let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
			closes.push(closes[i - 1] * libm::exp(sign * if big { 0.03 } else { 0.01 }));
		}
		let p = volatility_profile(&closes);
		let all = libm::sqrt((6.0 * 1e-4 + 9e-4) / 7.0);
		for (k, v) in p.iter().take(SEGMENTS).enumerate() {
			let rms = if k == 3 { 0.03 } else { 0.01 };
			assert!((*v as f64 - libm::log(rms / all)).abs() < 1e-5, "{k}: {p:?}");
		}
		assert_eq!(p[SEGMENTS], volatility_ratio(&closes) as f32);
		// A flat window reads as zeros, a flat run as the lower bound.
		assert_eq!(volatility_profile(&[7.0; WINDOW]), [0.0; PROFILE]);
		let mut waking = vec![7.0; WINDOW];
		waking[WINDOW - 1] = 7.5;
		let p = volatility_profile(&waking);
		assert_eq!(p[0], -PROFILE_LIMIT as f32);
		// Only the last run moved: it is above the whole, and the last bars wilder than the
		// window.
		assert!(p[SEGMENTS - 1] > 0.0 && p[SEGMENTS] < 0.0, "{p:?}");
	}

	#[test]
	fn stats_give_the_rule_or_say_what_is_missing() {
		let stats = |pairs: &[(&str, Vec<f64>)]| -> BTreeMap<String, Vec<f64>> {
			pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
		};
		assert_eq!(
			Labelling::from_stats(
				Head::Positional,
				&stats(&[("outlook_terciles", vec![-0.2, 0.3])])
			),
			Ok(Labelling::Outlook { terciles: [-0.2, 0.3] })
		);
		assert_eq!(
			Labelling::from_stats(
				Head::Pooled,
				&stats(&[("volatility_threshold", vec![0.01]), ("tau", vec![0.002])])
			),
			Ok(Labelling::Legacy { vol_threshold: 0.01, tau: 0.002 })
		);
		for bad in [vec![0.3, -0.2], vec![0.1], vec![f64::NAN, 0.1]] {
			let r = Labelling::from_stats(Head::Positional, &stats(&[("outlook_terciles", bad)]));
			assert!(r.unwrap_err().contains("outlook_terciles"));
		}
		let r = Labelling::from_stats(Head::Pooled, &stats(&[("tau", vec![0.002])]));
		assert!(r.unwrap_err().contains("volatility_threshold"));
	}
}
