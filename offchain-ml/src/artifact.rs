//! Model artifacts: one file holding a JSON manifest and the weights, content-addressed by the
//! blake2-256 hash of its bytes (the hash and size the on-chain model registry records).
//!
//! Layout, all integers little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `NODERRML` |
//! | 4 | format version (1) |
//! | 8 | manifest length `m` |
//! | `m` | manifest, UTF-8 JSON ([`Manifest`]) |
//! | rest | weights in the safetensors format (f32 tensors, named as in the manifest) |

use blake2::{digest::consts::U32, Blake2b, Digest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAGIC: &[u8; 8] = b"NODERRML";
pub const FORMAT_VERSION: u32 = 1;
/// Largest manifest accepted (the sentiment vocabulary is the biggest part of any manifest).
pub const MAX_MANIFEST: u64 = 4 << 20;

/// What a model does, as the registry records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
	/// Real-valued outputs, named.
	Regression { outputs: Vec<String> },
	/// One of `labels`.
	Classification { labels: Vec<String> },
	/// One of `labels`, from text of at most `max_bytes`.
	TextClassification { labels: Vec<String>, max_bytes: usize },
}

/// The manifest stored in an artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
	/// Model name (`price-transformer`, `gaf-regime`, `msrr`, `sentiment`).
	pub name: String,
	/// Semantic version of this trained model.
	pub version: String,
	pub task: Task,
	/// Feature-pipeline version the inputs come from (0 if the model does not use it).
	pub feature_version: u32,
	/// Input shape without the batch dimension.
	pub input_shape: Vec<usize>,
	/// Fixed-point scale of the outputs: a value `x` is reported as `round(x * scale)`.
	pub output_scale: i64,
	/// Model hyper-parameters the loader needs to rebuild the architecture.
	pub params: BTreeMap<String, serde_json::Value>,
	/// Normalisation statistics and other fitted constants.
	pub stats: BTreeMap<String, Vec<f64>>,
	/// Evaluation on the held-out period.
	pub metrics: BTreeMap<String, serde_json::Value>,
	/// Training data and split description.
	pub training: BTreeMap<String, String>,
	/// Weights: name and shape.
	pub tensors: Vec<(String, Vec<usize>)>,
}

/// Why an artifact cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
	#[error("not a Noderr model artifact (bad magic)")]
	BadMagic,
	#[error("artifact format version {0} is not supported (expected {FORMAT_VERSION})")]
	UnsupportedVersion(u32),
	#[error("artifact is truncated: {0}")]
	Truncated(&'static str),
	#[error("manifest is invalid: {0}")]
	Manifest(String),
	#[error("weights are invalid: {0}")]
	Weights(String),
	#[error("hash mismatch: expected {expected}, got {got}")]
	HashMismatch { expected: String, got: String },
	#[error("{0}")]
	Io(#[from] std::io::Error),
}

/// blake2-256 of `bytes`.
pub fn blake2_256(bytes: &[u8]) -> [u8; 32] {
	let mut hasher = Blake2b::<U32>::new();
	hasher.update(bytes);
	hasher.finalize().into()
}

/// `0x`-prefixed lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
	let mut s = String::with_capacity(2 + 2 * bytes.len());
	s.push_str("0x");
	for b in bytes {
		s.push_str(&format!("{b:02x}"));
	}
	s
}

/// A 32-byte hash from 64 hex digits (with or without `0x`), the inverse of [`hex`].
pub fn parse_hex(s: &str) -> Option<[u8; 32]> {
	let s = s.strip_prefix("0x").unwrap_or(s);
	if s.len() != 64 {
		return None;
	}
	let mut out = [0u8; 32];
	for (i, b) in out.iter_mut().enumerate() {
		*b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
	}
	Some(out)
}

/// Named f32 tensors, row-major.
pub type Weights = Vec<(String, Vec<usize>, Vec<f32>)>;

/// Serialises a manifest and weights into artifact bytes. The manifest's tensor list is
/// rewritten from `weights`.
pub fn encode(manifest: &Manifest, weights: &Weights) -> Result<Vec<u8>, ArtifactError> {
	let mut manifest = manifest.clone();
	manifest.tensors = weights.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect();
	let json = serde_json::to_vec(&manifest).map_err(|e| ArtifactError::Manifest(e.to_string()))?;
	let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = weights
		.iter()
		.map(|(n, s, v)| (n.clone(), v.iter().flat_map(|x| x.to_le_bytes()).collect(), s.clone()))
		.collect();
	let views = bytes
		.iter()
		.map(|(n, b, s)| {
			safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
				.map(|v| (n.clone(), v))
				.map_err(|e| ArtifactError::Weights(format!("{e:?}")))
		})
		.collect::<Result<Vec<_>, _>>()?;
	let tensors = safetensors::tensor::serialize(views, &None)
		.map_err(|e| ArtifactError::Weights(format!("{e:?}")))?;
	let mut out = Vec::with_capacity(20 + json.len() + tensors.len());
	out.extend_from_slice(MAGIC);
	out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
	out.extend_from_slice(&(json.len() as u64).to_le_bytes());
	out.extend_from_slice(&json);
	out.extend_from_slice(&tensors);
	Ok(out)
}

/// A decoded artifact.
#[derive(Clone, Debug)]
pub struct Artifact {
	pub manifest: Manifest,
	pub weights: Weights,
	/// blake2-256 of the artifact bytes.
	pub hash: [u8; 32],
	pub size: u64,
}

/// Little-endian f32 values of a safetensors F32 tensor's bytes.
pub(crate) fn f32_values(data: &[u8]) -> Vec<f32> {
	data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Parses artifact bytes, checking every length, that the weights are f32 and match the
/// manifest's list.
pub fn decode(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
	if bytes.len() < 20 {
		return Err(ArtifactError::Truncated("shorter than the header"));
	}
	if &bytes[..8] != MAGIC {
		return Err(ArtifactError::BadMagic);
	}
	let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
	if version != FORMAT_VERSION {
		return Err(ArtifactError::UnsupportedVersion(version));
	}
	let mut len = [0u8; 8];
	len.copy_from_slice(&bytes[12..20]);
	let len = u64::from_le_bytes(len);
	if len > MAX_MANIFEST {
		return Err(ArtifactError::Manifest(format!("manifest of {len} bytes is too large")));
	}
	let end = 20 + len as usize;
	if bytes.len() < end {
		return Err(ArtifactError::Truncated("the manifest is cut short"));
	}
	let manifest: Manifest = serde_json::from_slice(&bytes[20..end])
		.map_err(|e| ArtifactError::Manifest(e.to_string()))?;
	let tensors = safetensors::SafeTensors::deserialize(&bytes[end..])
		.map_err(|e| ArtifactError::Weights(format!("{e:?} (truncated or corrupt weights)")))?;
	let mut weights = Vec::with_capacity(manifest.tensors.len());
	for (name, shape) in &manifest.tensors {
		let view = tensors
			.tensor(name)
			.map_err(|_| ArtifactError::Weights(format!("tensor {name} is missing")))?;
		if view.dtype() != safetensors::Dtype::F32 || view.shape() != shape.as_slice() {
			return Err(ArtifactError::Weights(format!(
				"tensor {name} is {:?} {:?}, the manifest says f32 {shape:?}",
				view.dtype(),
				view.shape()
			)));
		}
		let values = f32_values(view.data());
		if values.iter().any(|v| !v.is_finite()) {
			return Err(ArtifactError::Weights(format!("tensor {name} holds NaN or infinity")));
		}
		weights.push((name.clone(), shape.clone(), values));
	}
	if tensors.len() != manifest.tensors.len() {
		return Err(ArtifactError::Weights("tensors not listed in the manifest".into()));
	}
	Ok(Artifact { manifest, weights, hash: blake2_256(bytes), size: bytes.len() as u64 })
}

/// Reads and decodes an artifact file; with `expected`, refuses it unless its hash matches.
pub fn read(path: &std::path::Path, expected: Option<[u8; 32]>) -> Result<Artifact, ArtifactError> {
	let bytes = std::fs::read(path)?;
	if let Some(expected) = expected {
		let got = blake2_256(&bytes);
		if got != expected {
			return Err(ArtifactError::HashMismatch { expected: hex(&expected), got: hex(&got) });
		}
	}
	decode(&bytes)
}

/// Writes artifact bytes atomically (temporary file, fsync, rename) and returns their hash.
pub fn write(path: &std::path::Path, bytes: &[u8]) -> Result<[u8; 32], ArtifactError> {
	use std::io::Write;
	let tmp = path.with_extension("part");
	let mut f = std::fs::File::create(&tmp)?;
	f.write_all(bytes)?;
	f.sync_all()?;
	std::fs::rename(&tmp, path)?;
	Ok(blake2_256(bytes))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn sample() -> (Manifest, Weights) {
		let manifest = Manifest {
			name: "m".into(),
			version: "1.0.0".into(),
			task: Task::Regression { outputs: vec!["y".into()] },
			feature_version: 1,
			input_shape: vec![2],
			output_scale: 1_000_000,
			params: Default::default(),
			stats: Default::default(),
			metrics: Default::default(),
			training: Default::default(),
			tensors: vec![],
		};
		(manifest, vec![("w".into(), vec![2, 1], vec![0.5, -1.5])])
	}

	#[test]
	fn round_trip_and_hash() {
		let (m, w) = sample();
		let bytes = encode(&m, &w).unwrap();
		let a = decode(&bytes).unwrap();
		assert_eq!(a.weights, w);
		assert_eq!(a.manifest.tensors, vec![("w".to_string(), vec![2, 1])]);
		assert_eq!(a.hash, blake2_256(&bytes));
		assert_eq!(bytes, encode(&m, &w).unwrap(), "encoding is deterministic");
	}

	#[test]
	fn corrupt_and_truncated_artifacts_are_refused() {
		let (m, w) = sample();
		let bytes = encode(&m, &w).unwrap();
		for cut in [0, 10, 19, 30, bytes.len() - 1] {
			assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
		}
		let mut bad = bytes.clone();
		bad[0] = b'X';
		assert!(matches!(decode(&bad), Err(ArtifactError::BadMagic)));
		let mut nan = bytes.clone();
		let at = nan.len() - 4;
		nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
		assert!(matches!(decode(&nan), Err(ArtifactError::Weights(_))));
	}
}
