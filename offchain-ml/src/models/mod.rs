//! The models: architectures in tch, conversion between a `VarStore` and artifact weights, and
//! fixed-point quantisation of outputs.

pub mod gaf;
pub mod int8;
pub mod msrr;
pub mod price;
pub mod sentiment;

use crate::artifact::Weights;
use tch::{nn, Kind, Tensor};

/// Weights of a variable store, sorted by name, as f32.
pub fn weights_of(vs: &nn::VarStore) -> Weights {
	let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
	vars.sort_by(|a, b| a.0.cmp(&b.0));
	vars.into_iter()
		.map(|(name, t)| {
			let shape: Vec<usize> = t.size().iter().map(|d| *d as usize).collect();
			let flat = t.detach().to_kind(Kind::Float).contiguous().view([-1]);
			let values = Vec::<f32>::try_from(&flat).expect("f32 tensor");
			(name, shape, values)
		})
		.collect()
}

/// Copies artifact weights into a variable store built with the same architecture. Every
/// variable must be present with the same shape, and nothing else.
pub fn load_weights(vs: &mut nn::VarStore, weights: &Weights) -> Result<(), String> {
	let vars = vs.variables();
	if vars.len() != weights.len() {
		return Err(format!(
			"the architecture has {} tensors, the artifact {}",
			vars.len(),
			weights.len()
		));
	}
	tch::no_grad(|| {
		for (name, shape, values) in weights {
			let var = vars.get(name).ok_or_else(|| format!("unexpected tensor {name}"))?;
			let expected: Vec<usize> = var.size().iter().map(|d| *d as usize).collect();
			if &expected != shape {
				return Err(format!("tensor {name}: artifact shape {shape:?}, model {expected:?}"));
			}
			let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
			let mut var = var.shallow_clone();
			var.copy_(&Tensor::from_slice(values).view(dims.as_slice()));
		}
		Ok(())
	})?;
	vs.freeze();
	Ok(())
}

/// The tensors of a network that inference runs in Rust, checked against the tch architecture
/// `build` creates (every tensor present with its shape, nothing else, with [`load_weights`]'s
/// messages) and every value finite.
pub struct CheckedWeights<'a>(&'a Weights);

impl<'a> CheckedWeights<'a> {
	pub fn new(weights: &'a Weights, build: impl FnOnce(&nn::Path)) -> Result<Self, String> {
		let mut vs = nn::VarStore::new(tch::Device::Cpu);
		build(&vs.root());
		load_weights(&mut vs, weights)?;
		for (name, _, values) in weights {
			if let Some(i) = values.iter().position(|v| !v.is_finite()) {
				return Err(format!("tensor {name}: value {i} is {}", values[i]));
			}
		}
		Ok(Self(weights))
	}

	/// The values of tensor `name`.
	pub fn get(&self, name: &str) -> Result<&'a [f32], String> {
		self.0
			.iter()
			.find(|(n, _, _)| n == name)
			.map(|(_, _, values)| values.as_slice())
			.ok_or_else(|| format!("missing tensor {name}"))
	}
}

/// Whether this processor runs the AVX2 and FMA paths of the Rust networks (which give the same
/// bits as their portable paths, only faster).
pub fn has_avx2_fma() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// Rounds `x * scale` to the nearest integer (ties away from zero), saturating; NaN maps to 0.
pub fn quantize(x: f64, scale: i64) -> i64 {
	let v = (x * scale as f64).round();
	if v.is_nan() {
		0
	} else {
		v.clamp(i64::MIN as f64, i64::MAX as f64) as i64
	}
}

/// A tensor's values as f32.
pub fn values(t: &Tensor) -> Vec<f32> {
	Vec::<f32>::try_from(&t.to_kind(Kind::Float).contiguous().view([-1])).expect("f32 tensor")
}
