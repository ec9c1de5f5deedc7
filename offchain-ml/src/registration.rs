//! What a publisher submits to the model registry for an artifact: the registration derived
//! from its manifest (task, input and output spec), its hash and size, plus the choices the
//! manifest cannot make (minimum tier, agreement tolerance, fetch locations, activation block).
//!
//! Two renderings: the polkadot.js call a publisher pastes into the apps' JavaScript console,
//! and the JSON the registry pallet's genesis config reads (the dev chain's default models in
//! `runtime/src/dev_models.json` are written by `noderr-ml registration --genesis`).

use crate::artifact::{self, Artifact, Task};
use noderr_primitives::{InputSpec, OutputSpec, TaskKind};
use serde_json::{json, Value};

/// Choices the publisher makes for a version.
#[derive(Clone, Debug)]
pub struct Policy {
	/// `All`, `Oracle` or `Guardian`.
	pub min_tier: String,
	/// Agreement tolerance in fixed-point units.
	pub tolerance: u64,
	/// HTTP(S) URLs of the artifact.
	pub locations: Vec<String>,
	/// First active block.
	pub activate_at: u64,
}

/// Tiers the registry knows, lowest first.
pub const TIERS: [&str; 3] = ["All", "Oracle", "Guardian"];

/// The default tier and tolerance of the models this project trains: price prediction is the
/// basic work every tier does; regime, risk and sentiment are oracle work. A tolerance of 1,000
/// units (0.001 at scale 10^6) absorbs the last-bit differences between CPU kernels.
pub fn default_policy(name: &str) -> Policy {
	let min_tier = if name == "price-transformer" { "All" } else { "Oracle" };
	Policy { min_tier: min_tier.into(), tolerance: 1_000, locations: Vec::new(), activate_at: 0 }
}

fn semver(version: &str) -> Result<(u16, u16, u16), String> {
	let parts: Vec<_> = version.split('.').map(|p| p.parse::<u16>()).collect();
	match parts.as_slice() {
		[Ok(a), Ok(b), Ok(c)] => Ok((*a, *b, *c)),
		_ => Err(format!("version {version:?} is not MAJOR.MINOR.PATCH")),
	}
}

/// The registration's fields (registry JSON shape) for an artifact.
pub fn registration(a: &Artifact, p: &Policy) -> Result<(String, Value, Value), String> {
	let m = &a.manifest;
	if !TIERS.contains(&p.min_tier.as_str()) {
		return Err(format!("tier {:?} is not one of {TIERS:?}", p.min_tier));
	}
	let count = |n: usize| u8::try_from(n).map_err(|_| format!("{n} outputs is too many"));
	// The chain's own types (noderr-primitives), serialised as the registry's JSON reads them.
	let kind = match &m.task {
		Task::Regression { outputs } => TaskKind::Regression { outputs: count(outputs.len())? },
		Task::Classification { labels } => {
			TaskKind::Classification { classes: count(labels.len())? }
		}
		Task::TextClassification { labels, .. } => {
			TaskKind::TextClassification { classes: count(labels.len())? }
		}
	};
	let size =
		|n: usize| u32::try_from(n).map_err(|_| format!("{n} is too large for the registry"));
	let input = match (&m.task, m.input_shape.as_slice()) {
		(Task::TextClassification { max_bytes, .. }, _) => {
			InputSpec::Text { max_bytes: size(*max_bytes)? }
		}
		(_, [window, features]) => InputSpec::Features {
			pipeline_version: m.feature_version,
			window: size(*window)?,
			feature_count: size(*features)?,
		},
		(_, [window]) => InputSpec::Bars { window: size(*window)? },
		(_, shape) => return Err(format!("input shape {shape:?} has no registry spec")),
	};
	let scale = u64::try_from(m.output_scale).map_err(|_| "negative output scale".to_string())?;
	let output = OutputSpec { scale, tolerance: p.tolerance };
	let (major, minor, patch) = semver(&m.version)?;
	let version = json!({ "major": major, "minor": minor, "patch": patch });
	let fields = json!({
		"spec": {
			"kind": kind,
			"min_tier": p.min_tier,
			"input": input,
			"output": output,
			"artifact_hash": artifact::hex(&a.hash),
			"artifact_size": a.size,
		},
		"locations": p.locations,
		"activate_at": p.activate_at,
	});
	Ok((m.name.clone(), version, fields))
}

/// The polkadot.js call (apps' JavaScript console) that registers the artifact through sudo.
pub fn polkadot_js_call(a: &Artifact, p: &Policy) -> Result<String, String> {
	let (name, version, fields) = registration(a, p)?;
	Ok(format!(
		"api.tx.sudo.sudo(api.tx.modelRegistry.register({}, {version}, {fields}))",
		Value::String(name)
	))
}

/// The entry of the registry pallet's genesis config: `[name, version, registration]` with
/// byte strings as arrays and the hash as 32 bytes, the way the runtime's JSON reads them.
pub fn genesis_entry(a: &Artifact, p: &Policy) -> Result<Value, String> {
	let (name, version, mut fields) = registration(a, p)?;
	fields["spec"]["artifact_hash"] = json!(a.hash.to_vec());
	fields["locations"] =
		json!(p.locations.iter().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>());
	Ok(json!([name.into_bytes(), version, fields]))
}
