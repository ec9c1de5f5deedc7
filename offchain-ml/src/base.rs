//! Artifacts built on a published base model. The sentiment model is the all-MiniLM-L6-v2
//! encoder, unchanged, plus a small trained head. Its 87 MiB artifact is not committed and not
//! retrained per machine: the repository holds the *head* (an artifact of its own with the
//! complete manifest and only the tensors the base lacks), and [`assemble`] adds the base's
//! tensors, read byte for byte from the pinned safetensors file, to give the exact artifact
//! bytes whose hash the registry records. No arithmetic touches the weights on the way, so every
//! machine assembles the same bytes.
//!
//! The manifest names its base in `params.base`: `{"file", "blake2_256", "skip"}` (the base's
//! file name, the blake2-256 of its bytes, and base tensors the model does not use).

use crate::artifact::{self, Artifact, ArtifactError, Weights};
use serde_json::{json, Value};

/// The base a manifest declares.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseRef {
	/// File name of the base weights (for messages).
	pub file: String,
	/// blake2-256 of the base file's bytes.
	pub hash: [u8; 32],
	/// Tensors of the base file the model does not use.
	pub skip: Vec<String>,
}

impl BaseRef {
	/// The `params.base` value of a manifest.
	pub fn to_json(&self) -> Value {
		json!({ "file": self.file, "blake2_256": artifact::hex(&self.hash), "skip": self.skip })
	}

	/// Reads `params.base` from an artifact's manifest, if it declares one.
	pub fn of(a: &Artifact) -> Result<Option<Self>, ArtifactError> {
		let Some(v) = a.manifest.params.get("base") else { return Ok(None) };
		let bad = |what: &str| ArtifactError::Manifest(format!("params.base: {what}"));
		let file = v.get("file").and_then(Value::as_str).ok_or_else(|| bad("no file"))?;
		let hash = v
			.get("blake2_256")
			.and_then(Value::as_str)
			.and_then(artifact::parse_hex)
			.ok_or_else(|| bad("no 32-byte blake2_256"))?;
		let skip = v
			.get("skip")
			.and_then(Value::as_array)
			.ok_or_else(|| bad("no skip list"))?
			.iter()
			.map(|s| s.as_str().map(String::from).ok_or_else(|| bad("skip holds a non-string")))
			.collect::<Result<_, _>>()?;
		Ok(Some(Self { file: file.into(), hash, skip }))
	}
}

/// Why a head and a base do not make an artifact.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
	#[error("{0}")]
	Artifact(#[from] ArtifactError),
	#[error("the artifact declares no base model (params.base)")]
	NoBase,
	#[error(
		"the base file hashes to {got}, the model was built on {file} with blake2-256 {expected} \
		 (scripts/setup-data.sh extracts the pinned one)"
	)]
	WrongBase { file: String, expected: String, got: String },
	#[error("base weights: {0}")]
	BaseWeights(String),
	#[error("tensor {0} is in both the head and the base")]
	Duplicate(String),
	#[error("tensor {0} differs from the base's: the model changed the base, so it needs its full artifact")]
	Modified(String),
}

/// The base file's f32 tensors, less those `base.skip` names, after checking its hash.
fn base_weights(base: &BaseRef, bytes: &[u8]) -> Result<Weights, BaseError> {
	let got = artifact::blake2_256(bytes);
	if got != base.hash {
		return Err(BaseError::WrongBase {
			file: base.file.clone(),
			expected: artifact::hex(&base.hash),
			got: artifact::hex(&got),
		});
	}
	let tensors = safetensors::SafeTensors::deserialize(bytes)
		.map_err(|e| BaseError::BaseWeights(format!("{e:?}")))?;
	let mut out = Vec::new();
	for (name, view) in tensors.tensors() {
		if base.skip.contains(&name) {
			continue;
		}
		if view.dtype() != safetensors::Dtype::F32 {
			return Err(BaseError::BaseWeights(format!(
				"tensor {name} is {:?}, not f32",
				view.dtype()
			)));
		}
		out.push((name, view.shape().to_vec(), artifact::f32_values(view.data())));
	}
	Ok(out)
}

/// Splits a full artifact built on `base_bytes` into its head: the same manifest with only the
/// tensors the base does not hold. Refuses an artifact whose base tensors were changed.
pub fn head(full: &[u8], base_bytes: &[u8]) -> Result<Vec<u8>, BaseError> {
	let a = artifact::decode(full)?;
	let base = BaseRef::of(&a)?.ok_or(BaseError::NoBase)?;
	let base_w = base_weights(&base, base_bytes)?;
	let mut kept: Weights = Vec::new();
	for (name, shape, values) in &a.weights {
		match base_w.iter().find(|(n, _, _)| n == name) {
			Some((_, s, v))
				if s == shape
					&& v.iter().map(|x| x.to_bits()).eq(values.iter().map(|x| x.to_bits())) => {}
			Some(_) => return Err(BaseError::Modified(name.clone())),
			None => kept.push((name.clone(), shape.clone(), values.clone())),
		}
	}
	Ok(artifact::encode(&a.manifest, &kept)?)
}

/// The full artifact bytes of `head` on `base_bytes`: the head's manifest and tensors plus the
/// base's, in name order (the order the trainer writes).
pub fn assemble(head: &[u8], base_bytes: &[u8]) -> Result<Vec<u8>, BaseError> {
	let h = artifact::decode(head)?;
	let base = BaseRef::of(&h)?.ok_or(BaseError::NoBase)?;
	let mut weights = base_weights(&base, base_bytes)?;
	for (name, shape, values) in h.weights {
		if weights.iter().any(|(n, _, _)| *n == name) {
			return Err(BaseError::Duplicate(name));
		}
		weights.push((name, shape, values));
	}
	weights.sort_by(|a, b| a.0.cmp(&b.0));
	Ok(artifact::encode(&h.manifest, &weights)?)
}

/// Writes the published artifacts of `dir` into `out`: each `*.nrm` copied as it is, each
/// `*.head` assembled on `base_bytes` into `<name>.nrm`. Returns the files written with their
/// hashes. A file already in `out` with the same bytes is left alone.
pub fn install(
	dir: &std::path::Path,
	base_bytes: Option<&[u8]>,
	out: &std::path::Path,
) -> Result<Vec<(std::path::PathBuf, [u8; 32])>, String> {
	let mut entries: Vec<_> = std::fs::read_dir(dir)
		.map_err(|e| format!("{}: {e}", dir.display()))?
		.filter_map(|e| e.ok().map(|e| e.path()))
		.filter(|p| p.extension().is_some_and(|x| x == "nrm" || x == "head"))
		.collect();
	entries.sort();
	std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
	let mut written = Vec::new();
	for path in entries {
		let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
		let bytes = if path.extension().is_some_and(|x| x == "head") {
			let base = base_bytes.ok_or_else(|| {
				format!("{}: a head needs its base weights (--base)", path.display())
			})?;
			assemble(&bytes, base).map_err(|e| format!("{}: {e}", path.display()))?
		} else {
			bytes
		};
		let target = out.join(path.with_extension("nrm").file_name().expect("a file"));
		let hash = artifact::blake2_256(&bytes);
		if std::fs::read(&target).ok().is_none_or(|old| old != bytes) {
			artifact::write(&target, &bytes).map_err(|e| format!("{}: {e}", target.display()))?;
		}
		written.push((target, hash));
	}
	Ok(written)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::artifact::{Manifest, Task};

	fn base_file() -> Vec<u8> {
		let a: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
		let ids: Vec<u8> = [0i64, 1].iter().flat_map(|x| x.to_le_bytes()).collect();
		let views = vec![
			(
				"enc.w",
				safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &a).unwrap(),
			),
			(
				"ids",
				safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![2], &ids)
					.unwrap(),
			),
		];
		safetensors::tensor::serialize(views, &None).unwrap()
	}

	fn full(base: &[u8], enc: Vec<f32>) -> Vec<u8> {
		let r = BaseRef {
			file: "b.safetensors".into(),
			hash: artifact::blake2_256(base),
			skip: vec!["ids".into()],
		};
		let manifest = Manifest {
			name: "m".into(),
			version: "1.0.0".into(),
			task: Task::Classification { labels: vec!["a".into(), "b".into()] },
			feature_version: 0,
			input_shape: vec![2],
			output_scale: 1_000_000,
			params: [("base".to_string(), r.to_json())].into(),
			stats: Default::default(),
			metrics: Default::default(),
			training: Default::default(),
			tensors: vec![],
		};
		let weights =
			vec![("enc.w".to_string(), vec![2], enc), ("head.w".to_string(), vec![1], vec![0.25])];
		artifact::encode(&manifest, &weights).unwrap()
	}

	#[test]
	fn head_and_base_assemble_to_the_same_bytes() {
		let base = base_file();
		let full = full(&base, vec![1.5, -2.0]);
		let head = head(&full, &base).unwrap();
		assert!(head.len() < full.len());
		assert_eq!(artifact::decode(&head).unwrap().weights.len(), 1);
		assert_eq!(assemble(&head, &base).unwrap(), full);
	}

	#[test]
	fn a_wrong_base_or_a_changed_base_tensor_is_refused() {
		let base = base_file();
		let mut other = base.clone();
		let last = other.len() - 1;
		other[last] ^= 1;
		let h = head(&full(&base, vec![1.5, -2.0]), &base).unwrap();
		assert!(matches!(assemble(&h, &other), Err(BaseError::WrongBase { .. })));
		assert!(
			matches!(head(&full(&base, vec![1.5, -2.5]), &base), Err(BaseError::Modified(n)) if n == "enc.w")
		);
	}
}
