//! The GAF regime classifier: a window of 64 closes -> two 64x64 Gramian Angular Field images
//! (summation GASF and difference GADF) -> a small CNN -> four regimes.
//!
//! GAF: the closes are min-max scaled to x in [-1, 1], phi = arccos(x); GASF[i][j] =
//! cos(phi_i + phi_j) = x_i x_j - s_i s_j and GADF[i][j] = sin(phi_i - phi_j) = s_i x_j - x_i s_j
//! with s = sqrt(1 - x^2), computed in f64 (no trigonometry) and stored as f32.
//!
//! CNN: three blocks of 3x3 convolution (8, 16, 32 channels, padding 1), ReLU and 2x2 max
//! pooling (64 -> 32 -> 16 -> 8), global average pooling, a linear layer to 4 logits.
//!
//! Labelling rule (for training and evaluation), for the window ending at bar t, looking at the
//! next `HORIZON` bars: R = ln(c_{t+H} / c_t), V = std of the H one-bar log returns after t.
//! The regime is `volatile` if V exceeds the 80th percentile of V over the training period,
//! else `bull` if R > tau, `bear` if R < -tau, else `sideways`, where tau is the median of |R|
//! over the training windows that are not volatile. Both thresholds are stored in the manifest.

use tch::{nn, nn::Module, Tensor};

pub const WINDOW: usize = 64;
pub const HORIZON: usize = 24;
pub const LABELS: [&str; 4] = ["bull", "bear", "sideways", "volatile"];

/// The two GAF images of a window, (2, n, n) row-major. A flat window gives x = 0 everywhere.
pub fn gaf_images(closes: &[f64]) -> Vec<f32> {
	let n = closes.len();
	let (lo, hi) = closes.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
	let x: Vec<f64> = closes
		.iter()
		.map(|&c| if hi > lo { ((2.0 * c - hi - lo) / (hi - lo)).clamp(-1.0, 1.0) } else { 0.0 })
		.collect();
	let s: Vec<f64> = x.iter().map(|v| libm::sqrt((1.0 - v * v).max(0.0))).collect();
	let mut out = vec![0f32; 2 * n * n];
	for i in 0..n {
		for j in 0..n {
			out[i * n + j] = (x[i] * x[j] - s[i] * s[j]) as f32;
			out[n * n + i * n + j] = (s[i] * x[j] - x[i] * s[j]) as f32;
		}
	}
	out
}

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

	#[test]
	fn gaf_of_a_ramp_is_symmetric_and_bounded() {
		let closes: Vec<f64> = (0..WINDOW).map(|i| 100.0 + i as f64).collect();
		let img = gaf_images(&closes);
		let n = WINDOW;
		for i in 0..n {
			for j in 0..n {
				assert!((img[i * n + j] - img[j * n + i]).abs() < 1e-6, "GASF symmetric");
				assert!(
					(img[n * n + i * n + j] + img[n * n + j * n + i]).abs() < 1e-6,
					"GADF antisymmetric"
				);
				assert!(img[i * n + j].abs() <= 1.0 + 1e-6);
			}
		}
		// First close maps to x = -1 (phi = pi): GASF[0][0] = cos(2 pi) = 1.
		assert!((img[0] - 1.0).abs() < 1e-6);
		assert!(gaf_images(&[5.0; WINDOW]).iter().all(|v| v.is_finite()));
	}
}
