//! MSRR: a Markov-switching regime filter over returns feeding a robust mean-semivariance
//! allocation.
//!
//! Model: hourly log returns `r` (in per cent) follow a two-state hidden Markov chain, state 0
//! calm and state 1 turbulent (the one with the larger standard deviation), with Gaussian
//! emissions N(mu_k, sigma_k^2) and transition matrix P. Training fits it by Baum-Welch (EM with
//! scaled forward-backward) from a fixed start, then records per state the downside
//! semivariance E[min(r, 0)^2] and the effective number of observations n_k.
//!
//! Inference over the last `WINDOW` bars: the Hamilton filter from the stationary distribution
//! gives P(state now | returns), one step of P gives the next bar's state probabilities q.
//! Robust expected return: m = sum_k q_k (mu_k - KAPPA sigma_k / sqrt(n_k)) (each state's mean
//! at the lower edge of its 95% interval); semivariance s = sum_k q_k SV_k; allocation
//! w = clamp(m / (GAMMA s), 0, 1) with m and s taken as fractions (not per cent), the share of
//! capital to hold in the asset for the next bar.
//! The turbulent-state probability is the risk signal.
//!
//! Pure f64 Rust with libm: a two-state filter is a handful of scalar operations, and this keeps
//! it bit-identical on every node.

use libm::{exp, log, sqrt};

/// Bars the filter reads (one week of hourly bars).
pub const WINDOW: usize = 168;
/// Width of the robust interval on the state means.
pub const KAPPA: f64 = 1.96;
/// Risk aversion.
pub const GAMMA: f64 = 2.0;

/// Fitted parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct MsrrParams {
	pub mu: [f64; 2],
	pub sigma: [f64; 2],
	/// `transition[i][j]` = P(next = j | now = i).
	pub transition: [[f64; 2]; 2],
	pub semivariance: [f64; 2],
	pub effective_n: [f64; 2],
}

/// The filter's outputs for one window.
#[derive(Clone, Debug, PartialEq)]
pub struct MsrrOutput {
	/// P(calm), P(turbulent) now.
	pub filtered: [f64; 2],
	/// P(turbulent) at the next bar.
	pub turbulence_next: f64,
	/// Robust expected next return (per cent).
	pub expected_return: f64,
	/// Expected downside semivariance (per cent squared).
	pub semivariance: f64,
	/// Allocation in [0, 1].
	pub allocation: f64,
}

fn density(r: f64, mu: f64, sigma: f64) -> f64 {
	let z = (r - mu) / sigma;
	exp(-0.5 * z * z) / (sigma * sqrt(2.0 * core::f64::consts::PI))
}

impl MsrrParams {
	fn stationary(&self) -> [f64; 2] {
		let (a, b) = (self.transition[0][1], self.transition[1][0]);
		if a + b <= 0.0 {
			[0.5, 0.5]
		} else {
			[b / (a + b), a / (a + b)]
		}
	}

	/// Filtered state probabilities after each return, and the log-likelihood.
	pub fn filter(&self, returns: &[f64]) -> (Vec<[f64; 2]>, f64) {
		let mut p = self.stationary();
		let mut out = Vec::with_capacity(returns.len());
		let mut loglik = 0.0;
		for &r in returns {
			let prior = [
				p[0] * self.transition[0][0] + p[1] * self.transition[1][0],
				p[0] * self.transition[0][1] + p[1] * self.transition[1][1],
			];
			let joint = [
				prior[0] * density(r, self.mu[0], self.sigma[0]),
				prior[1] * density(r, self.mu[1], self.sigma[1]),
			];
			let total = joint[0] + joint[1];
			if total > 0.0 && total.is_finite() {
				p = [joint[0] / total, joint[1] / total];
				loglik += log(total);
			} else {
				// A return far outside both states: keep the prior rather than divide by zero.
				p = prior;
				loglik += -745.0;
			}
			out.push(p);
		}
		(out, loglik)
	}

	/// The allocation for the bar after `returns`.
	pub fn evaluate(&self, returns: &[f64]) -> MsrrOutput {
		let (filtered, _) = self.filter(returns);
		let p = filtered.last().copied().unwrap_or_else(|| self.stationary());
		let q = [
			p[0] * self.transition[0][0] + p[1] * self.transition[1][0],
			p[0] * self.transition[0][1] + p[1] * self.transition[1][1],
		];
		let robust =
			|k: usize| self.mu[k] - KAPPA * self.sigma[k] / sqrt(self.effective_n[k].max(1.0));
		let expected_return = q[0] * robust(0) + q[1] * robust(1);
		let semivariance = q[0] * self.semivariance[0] + q[1] * self.semivariance[1];
		// In fractions: (m / 100) / (GAMMA s / 100^2) = 100 m / (GAMMA s).
		let allocation = if semivariance > 0.0 {
			(100.0 * expected_return / (GAMMA * semivariance)).clamp(0.0, 1.0)
		} else {
			0.0
		};
		MsrrOutput { filtered: p, turbulence_next: q[1], expected_return, semivariance, allocation }
	}

	pub fn to_vec(&self) -> Vec<f64> {
		let t = self.transition;
		vec![
			self.mu[0],
			self.mu[1],
			self.sigma[0],
			self.sigma[1],
			t[0][0],
			t[0][1],
			t[1][0],
			t[1][1],
			self.semivariance[0],
			self.semivariance[1],
			self.effective_n[0],
			self.effective_n[1],
		]
	}

	pub fn from_vec(v: &[f64]) -> Option<Self> {
		if v.len() != 12 || v.iter().any(|x| !x.is_finite()) || v[2] <= 0.0 || v[3] <= 0.0 {
			return None;
		}
		let rows_ok = (v[4] + v[5] - 1.0).abs() < 1e-9 && (v[6] + v[7] - 1.0).abs() < 1e-9;
		if !rows_ok || v[4..8].iter().any(|p| !(0.0..=1.0).contains(p)) {
			return None;
		}
		Some(Self {
			mu: [v[0], v[1]],
			sigma: [v[2], v[3]],
			transition: [[v[4], v[5]], [v[6], v[7]]],
			semivariance: [v[8], v[9]],
			effective_n: [v[10], v[11]],
		})
	}
}

/// Fits the model to `returns` (per cent) by Baum-Welch from a fixed start.
pub fn fit(returns: &[f64], iterations: usize) -> MsrrParams {
	let n = returns.len();
	let mean = returns.iter().sum::<f64>() / n as f64;
	let sd = sqrt(returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n as f64);
	let mut m = MsrrParams {
		mu: [mean, mean],
		sigma: [0.6 * sd, 1.8 * sd],
		transition: [[0.95, 0.05], [0.05, 0.95]],
		semivariance: [0.0; 2],
		effective_n: [0.0; 2],
	};
	let mut gamma = vec![[0.0f64; 2]; n];
	let mut previous = f64::NEG_INFINITY;
	for _ in 0..iterations {
		// Scaled forward pass.
		let mut alpha = vec![[0.0f64; 2]; n];
		let mut scale = vec![0.0f64; n];
		let start = m.stationary();
		for t in 0..n {
			for k in 0..2 {
				let prior = if t == 0 {
					start[k]
				} else {
					alpha[t - 1][0] * m.transition[0][k] + alpha[t - 1][1] * m.transition[1][k]
				};
				alpha[t][k] = prior * density(returns[t], m.mu[k], m.sigma[k]);
			}
			scale[t] = (alpha[t][0] + alpha[t][1]).max(f64::MIN_POSITIVE);
			alpha[t][0] /= scale[t];
			alpha[t][1] /= scale[t];
		}
		let loglik: f64 = scale.iter().map(|s| log(*s)).sum();
		// Backward pass and expected transitions.
		let mut beta = vec![[1.0f64; 2]; n];
		let mut xi = [[0.0f64; 2]; 2];
		for t in (0..n - 1).rev() {
			let e = [
				density(returns[t + 1], m.mu[0], m.sigma[0]),
				density(returns[t + 1], m.mu[1], m.sigma[1]),
			];
			for i in 0..2 {
				beta[t][i] = (0..2)
					.map(|j| m.transition[i][j] * e[j] * beta[t + 1][j])
					.sum::<f64>() / scale[t + 1];
				for j in 0..2 {
					xi[i][j] +=
						alpha[t][i] * m.transition[i][j] * e[j] * beta[t + 1][j] / scale[t + 1];
				}
			}
		}
		for t in 0..n {
			let g = [alpha[t][0] * beta[t][0], alpha[t][1] * beta[t][1]];
			let s = (g[0] + g[1]).max(f64::MIN_POSITIVE);
			gamma[t] = [g[0] / s, g[1] / s];
		}
		// M step.
		for k in 0..2 {
			let w: f64 = gamma.iter().map(|g| g[k]).sum::<f64>().max(1e-12);
			m.mu[k] = gamma.iter().zip(returns).map(|(g, r)| g[k] * r).sum::<f64>() / w;
			let var =
				gamma.iter().zip(returns).map(|(g, r)| g[k] * (r - m.mu[k]).powi(2)).sum::<f64>()
					/ w;
			m.sigma[k] = sqrt(var).max(1e-6);
			let row = (xi[k][0] + xi[k][1]).max(1e-12);
			m.transition[k] = [xi[k][0] / row, xi[k][1] / row];
		}
		if (loglik - previous).abs() < 1e-7 * loglik.abs() {
			break;
		}
		previous = loglik;
	}
	// State 0 is the calm one.
	if m.sigma[0] > m.sigma[1] {
		m.mu.swap(0, 1);
		m.sigma.swap(0, 1);
		m.transition =
			[[m.transition[1][1], m.transition[1][0]], [m.transition[0][1], m.transition[0][0]]];
		gamma.iter_mut().for_each(|g| g.swap(0, 1));
	}
	for k in 0..2 {
		let w: f64 = gamma.iter().map(|g| g[k]).sum::<f64>().max(1e-12);
		m.semivariance[k] =
			gamma.iter().zip(returns).map(|(g, r)| g[k] * r.min(0.0).powi(2)).sum::<f64>() / w;
		m.effective_n[k] = w;
	}
	m
}

/// Per-cent log returns of a bar window's closes.
pub fn returns_of(closes: &[f64]) -> Vec<f64> {
	closes.windows(2).map(|w| 100.0 * log(w[1] / w[0])).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::heldout::SplitMix;

	fn normal(rng: &mut SplitMix) -> f64 {
		// Box-Muller from two uniforms.
		let u = |rng: &mut SplitMix| ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
		sqrt(-2.0 * log(u(rng))) * libm::cos(2.0 * core::f64::consts::PI * u(rng))
	}

	#[test]
	fn recovers_two_regimes_from_simulated_returns() {
		let mut rng = SplitMix::new(7);
		let truth = MsrrParams {
			mu: [0.05, -0.1],
			sigma: [0.5, 2.0],
			transition: [[0.98, 0.02], [0.05, 0.95]],
			semivariance: [0.0; 2],
			effective_n: [0.0; 2],
		};
		let mut state = 0;
		let mut returns = Vec::new();
		for _ in 0..20_000 {
			let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
			if u > truth.transition[state][state] {
				state = 1 - state;
			}
			returns.push(truth.mu[state] + truth.sigma[state] * normal(&mut rng));
		}
		let fitted = fit(&returns, 200);
		assert!((fitted.sigma[0] - 0.5).abs() < 0.05, "{fitted:?}");
		assert!((fitted.sigma[1] - 2.0).abs() < 0.15, "{fitted:?}");
		assert!((fitted.transition[0][0] - 0.98).abs() < 0.01, "{fitted:?}");
		assert!((fitted.transition[1][1] - 0.95).abs() < 0.02, "{fitted:?}");
		let out = fitted.evaluate(&returns[returns.len() - WINDOW..]);
		assert!((0.0..=1.0).contains(&out.allocation));
		assert!((out.filtered[0] + out.filtered[1] - 1.0).abs() < 1e-12);
		assert_eq!(MsrrParams::from_vec(&fitted.to_vec()), Some(fitted));
	}

	#[test]
	fn a_turbulent_window_raises_the_risk_signal() {
		let m = MsrrParams {
			mu: [0.05, -0.1],
			sigma: [0.5, 2.0],
			transition: [[0.98, 0.02], [0.05, 0.95]],
			semivariance: [0.1, 2.0],
			effective_n: [10_000.0, 3_000.0],
		};
		let calm: Vec<f64> = (0..WINDOW).map(|i| if i % 2 == 0 { 0.3 } else { -0.2 }).collect();
		let wild: Vec<f64> = (0..WINDOW).map(|i| if i % 2 == 0 { 3.0 } else { -3.5 }).collect();
		let (a, b) = (m.evaluate(&calm), m.evaluate(&wild));
		assert!(a.turbulence_next < 0.2 && b.turbulence_next > 0.8, "{a:?} {b:?}");
		assert!(a.allocation >= b.allocation);
		assert!(MsrrParams::from_vec(&[f64::NAN; 12]).is_none());
	}
}
