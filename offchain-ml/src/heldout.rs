//! What training and the held-out evaluation share: the time split of a series into training,
//! validation and a later held-out period, deterministic shuffling, macro-F1, and the progress
//! shown for long work. Part of the crate whether or not the `train` feature is on, as
//! `noderr-ml evaluate` scores published artifacts on the same split training used.

use indicatif::{ProgressBar, ProgressStyle};

/// Deterministic pseudo-random numbers (SplitMix64) for shuffling.
pub struct SplitMix(u64);

impl SplitMix {
	pub fn new(seed: u64) -> Self {
		Self(seed)
	}
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	pub fn shuffle<T>(&mut self, v: &mut [T]) {
		for i in (1..v.len()).rev() {
			let j = (self.next_u64() % (i as u64 + 1)) as usize;
			v.swap(i, j);
		}
	}
}

/// Progress of a long step: a bar on a terminal, a line per tenth in a log.
pub struct Progress {
	bar: ProgressBar,
	len: u64,
	done: u64,
	tenth: u64,
	what: String,
	started: std::time::Instant,
}

impl Progress {
	pub fn inc(&mut self, n: u64) {
		self.bar.inc(n);
		self.done += n;
		if self.bar.is_hidden() && self.len > 0 {
			let tenth = self.done * 10 / self.len;
			if tenth > self.tenth {
				self.tenth = tenth;
				eprintln!(
					"{}: {}/{} ({}%) after {:.0} s",
					self.what,
					self.done,
					self.len,
					tenth * 10,
					self.started.elapsed().as_secs_f64()
				);
			}
		}
	}

	pub fn finish(self) {
		self.bar.finish();
	}

	pub fn finish_and_clear(self) {
		self.bar.finish_and_clear();
	}
}

pub fn progress(len: u64, what: &str) -> Progress {
	let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
		ProgressBar::new(len)
	} else {
		ProgressBar::hidden()
	};
	bar.set_style(
		ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {elapsed} eta {eta}")
			.expect("template")
			.progress_chars("=> "),
	);
	bar.set_message(what.to_string());
	Progress {
		bar,
		len,
		done: 0,
		tenth: 0,
		what: what.to_string(),
		started: std::time::Instant::now(),
	}
}

/// Time split of sample end indices.
#[derive(Clone, Debug)]
pub struct Split {
	pub train: Vec<usize>,
	pub valid: Vec<usize>,
	pub test: Vec<usize>,
}

/// Splits indices `first..last` (exclusive) by time at 70% / 85% of `n` bars with `gap` bars
/// dropped before each boundary.
pub fn split(first: usize, last: usize, n: usize, gap: usize, stride: usize) -> Split {
	let (a, b) = (n * 70 / 100, n * 85 / 100);
	let pick = |lo: usize, hi: usize| (lo.max(first)..hi.min(last)).step_by(stride).collect();
	Split { train: pick(0, a - gap), valid: pick(a, b - gap), test: pick(b, last) }
}

/// The `q` quantile of `v` (the nearest rank; sorts `v`).
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
	v.sort_by(|a, b| a.total_cmp(b));
	v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Share of predictions equal to their labels (0 for no predictions).
pub fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
	pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len().max(1) as f64
}

/// Macro-averaged F1 of predictions against labels over `classes` classes.
pub fn macro_f1(pred: &[usize], truth: &[usize], classes: usize) -> f64 {
	let mut total = 0.0;
	for c in 0..classes {
		let tp = pred.iter().zip(truth).filter(|(p, t)| **p == c && **t == c).count() as f64;
		let fp = pred.iter().zip(truth).filter(|(p, t)| **p == c && **t != c).count() as f64;
		let fnn = pred.iter().zip(truth).filter(|(p, t)| **p != c && **t == c).count() as f64;
		total += if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fnn) };
	}
	total / classes as f64
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_split_keeps_time_order_and_a_gap_before_each_boundary() {
		let s = split(10, 990, 1000, 24, 1);
		assert_eq!((s.train[0], *s.train.last().unwrap()), (10, 700 - 24 - 1));
		assert_eq!((s.valid[0], *s.valid.last().unwrap()), (700, 850 - 24 - 1));
		assert_eq!((s.test[0], *s.test.last().unwrap()), (850, 989));
		let t = split(10, 990, 1000, 24, 5);
		assert!(t.train.windows(2).all(|w| w[1] - w[0] == 5));
		assert!(t.test.iter().all(|x| s.test.contains(x)));
	}

	#[test]
	fn macro_f1_of_known_predictions() {
		assert_eq!(macro_f1(&[0, 1, 2], &[0, 1, 2], 3), 1.0);
		// Class 0: tp 1, fp 1, fn 0 -> 2/3; class 1: tp 0 -> 0.
		assert!((macro_f1(&[0, 0], &[0, 1], 2) - 1.0 / 3.0).abs() < 1e-12);
	}

	#[test]
	fn shuffles_are_permutations_fixed_by_the_seed() {
		let shuffled = |seed| {
			let mut v: Vec<u32> = (0..100).collect();
			SplitMix::new(seed).shuffle(&mut v);
			v
		};
		let a = shuffled(7);
		assert_eq!(a, shuffled(7));
		assert_ne!(a, shuffled(8));
		let mut sorted = a.clone();
		sorted.sort();
		assert_eq!(sorted, (0..100).collect::<Vec<_>>());
	}
}
