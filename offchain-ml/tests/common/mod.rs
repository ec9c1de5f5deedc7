//! What the artifact compatibility tests share: the published artifacts and rebuilt variants.

use noderr_ml::artifact::{self, Artifact, Manifest, Weights};

/// The published artifact `file` (in the artifacts directory `scripts/default-artifacts.sh`
/// fills).
pub fn published(file: &str) -> Artifact {
	let path = noderr_ml::data::artifacts_dir().join(file);
	let bytes = std::fs::read(&path)
		.unwrap_or_else(|e| panic!("{}: {e} (run scripts/default-artifacts.sh)", path.display()));
	artifact::decode(&bytes).unwrap()
}

/// `manifest` and `weights` as an artifact (encoded and decoded again, so its hash is theirs).
pub fn rebuilt(manifest: &Manifest, weights: &Weights) -> Artifact {
	artifact::decode(&artifact::encode(manifest, weights).unwrap()).unwrap()
}
