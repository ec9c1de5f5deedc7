//! Gramian Angular Field images, the regime classifier's input pipeline: the closes are min-max
//! scaled to x in [-1, 1], phi = arccos(x); GASF[i][j] = cos(phi_i + phi_j) = x_i x_j - s_i s_j
//! and GADF[i][j] = sin(phi_i - phi_j) = s_i x_j - x_i s_j with s = sqrt(1 - x^2), computed in f64
//! (no trigonometry) and stored as f32.

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

#[cfg(test)]
mod tests {
	use super::*;
	const WINDOW: usize = 64;

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
