//! What the node holds against what the registry lists: the `models_status` RPC method and the
//! `noderr-node models` command.

use crate::client::FullClient;
use noderr_ml::{
	artifact::hex,
	service::Models,
	store::{Http, Store},
};
use noderr_primitives::Tier;
use noderr_runtime::{opaque::Block, AccountId, BlockNumber};
use pallet_model_registry_runtime_api::{ModelInfo, ModelRegistryApi, Status};
use pallet_staking_tiers_runtime_api::StakingTiersApi;
use sc_client_api::HeaderBackend;
use sp_api::ProvideRuntimeApi;

/// A model version as people name it: `name 1.2.3`.
pub fn label(info: &ModelInfo<BlockNumber>) -> String {
	format!("{} {}", String::from_utf8_lossy(&info.name), info.version)
}

/// The tier whose models this node serves; `None` if the operator holds no tier.
pub fn node_tier(
	client: &FullClient,
	at: <Block as sp_runtime::traits::Block>::Hash,
	operator: Option<&AccountId>,
) -> Result<Option<Tier>, String> {
	match operator {
		None => Ok(Some(Tier::Guardian)),
		Some(who) => client
			.runtime_api()
			.operator_status(at, who.clone())
			.map(|s| s.tier)
			.map_err(|e| e.to_string()),
	}
}

/// The local store against the registry, for the `models_status` RPC method and the
/// `noderr-node models` command: every active registered version with its state on this node
/// (`present`, `missing`, `partial`, `wrong hash`), whether this node's tier serves it and
/// whether the ML service serves it now, then the files in the store the registry no longer
/// lists. Re-hashes the stored files.
pub fn status(
	client: &FullClient,
	store: &Store,
	models: &Models,
	operator: Option<&AccountId>,
) -> Result<serde_json::Value, String> {
	use serde_json::json;
	let best = client.info().best_hash;
	let tier = node_tier(client, best, operator)?;
	let all =
		client.runtime_api().active_models(best, Tier::Guardian).map_err(|e| e.to_string())?;
	let loaded = models.loaded();
	let held = store.list().map_err(|e| e.to_string())?;
	let mut rows = Vec::new();
	for m in &all {
		let hash = m.spec.artifact_hash;
		let local = if held.iter().any(|(h, _)| *h == hash) {
			match noderr_ml::store::hash_file(&store.path(&hash)) {
				Ok((got, len)) if got == hash && len == m.spec.artifact_size => {
					"present".to_string()
				}
				Ok(_) => "wrong hash".to_string(),
				Err(e) => format!("unreadable: {e}"),
			}
		} else {
			match store.partials(&hash).iter().map(|(_, len)| *len).max() {
				None | Some(0) => "missing".to_string(),
				Some(got) => format!("partial ({got} of {} bytes)", m.spec.artifact_size),
			}
		};
		rows.push(json!({
			"name": String::from_utf8_lossy(&m.name),
			"version": m.version.to_string(),
			"hash": hex(&hash),
			"size": m.spec.artifact_size,
			"minTier": format!("{:?}", m.spec.min_tier),
			"status": match m.status {
				Status::Live => "live".to_string(),
				Status::Deprecated(at) => format!("deprecated at #{at}"),
			},
			"forThisNode": tier.is_some_and(|t| m.spec.min_tier <= t),
			"local": local,
			"served": loaded.contains(&hash),
		}));
	}
	let unlisted: Vec<_> = held
		.iter()
		.filter(|(h, _)| !all.iter().any(|m| m.spec.artifact_hash == *h))
		.map(|(h, size)| json!({ "hash": hex(h), "size": size }))
		.collect();
	Ok(json!({
		"tier": tier.map(|t| format!("{t:?}")),
		"store": store.dir().display().to_string(),
		"models": rows,
		"unlisted": unlisted,
	}))
}

/// `noderr-node models`: asks a running node for [`status`] and prints it as a table.
pub fn print_status(cmd: &crate::cli::ModelsCmd) -> Result<(), String> {
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| e.to_string())?;
	let http = Http::new()?;
	let status =
		runtime.block_on(http.json_rpc(&cmd.rpc_url, "models_status", serde_json::json!([])))?;
	if cmd.json {
		println!("{}", serde_json::to_string_pretty(&status).map_err(|e| e.to_string())?);
		return Ok(());
	}
	let text = |v: &serde_json::Value| match v {
		serde_json::Value::String(s) => s.clone(),
		serde_json::Value::Bool(true) => "yes".into(),
		serde_json::Value::Bool(false) => "no".into(),
		serde_json::Value::Null => "-".into(),
		other => other.to_string(),
	};
	println!("store {}; this node serves tier {}", text(&status["store"]), text(&status["tier"]));
	let header =
		["MODEL", "VERSION", "MIN TIER", "REGISTRY", "FOR NODE", "LOCAL", "SERVED", "HASH"];
	let keys = ["name", "version", "minTier", "status", "forThisNode", "local", "served", "hash"];
	let rows: Vec<Vec<String>> = status["models"]
		.as_array()
		.into_iter()
		.flatten()
		.map(|m| keys.iter().map(|k| text(&m[*k])).collect())
		.collect();
	let widths: Vec<usize> = (0..header.len())
		.map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0))
		.collect();
	let line = |cells: Vec<String>| {
		cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ")
	};
	println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
	for row in rows {
		println!("{}", line(row));
	}
	for file in status["unlisted"].as_array().into_iter().flatten() {
		println!("not in the registry: {} ({} bytes)", text(&file["hash"]), text(&file["size"]));
	}
	Ok(())
}
