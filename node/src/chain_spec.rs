//! Chain specifications built into the node, `dev`, `local` and `zombienet`, each from the
//! runtime's genesis preset of the same purpose; and live networks' specs, built from the launch file their
//! launcher writes (`--chain launch:FILE`): its validators, sudo key, endowments and operators,
//! never a well-known development key.

use noderr_runtime::{
	genesis_config_presets::{live_genesis, LiveNetwork, Validator, ZOMBIENET_RUNTIME_PRESET},
	AccountId, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY,
};
use sc_service::ChainType;
use sp_core::crypto::Ss58Codec;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The chain specification type of this node.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The names `--chain` accepts besides a path to a chain-spec file.
pub const BUILT_IN: &[&str] = &["dev", "local", "zombienet"];

fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the node was built without its wasm runtime (SKIP_WASM_BUILD was set); rebuild it \
		 without SKIP_WASM_BUILD"
			.to_string()
	})
}

fn build(name: &str, id: &str, chain_type: ChainType, preset: &str) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_protocol_id("noderr")
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// Single-validator development chain (Alice).
pub fn development() -> Result<ChainSpec, String> {
	build("Noderr Development", "noderr_dev", ChainType::Development, DEV_RUNTIME_PRESET)
}

/// Two-validator local network (Alice, Bob).
pub fn local_testnet() -> Result<ChainSpec, String> {
	build("Noderr Local Testnet", "noderr_local", ChainType::Local, LOCAL_TESTNET_RUNTIME_PRESET)
}

/// The local testnet zombienet launches (`zombienet/local.toml`): its validators are the nodes
/// zombienet declares, six dev operators in every tier.
pub fn zombienet_testnet() -> Result<ChainSpec, String> {
	build(
		"Noderr Zombienet Testnet",
		"noderr_zombienet",
		ChainType::Local,
		ZOMBIENET_RUNTIME_PRESET,
	)
}

/// Resolves `--chain`: a built-in name, or a path to a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development()?),
		"" | "local" => Box::new(local_testnet()?),
		"zombienet" => Box::new(zombienet_testnet()?),
		"testnet" => {
			return Err("the testnet has no built-in spec: a live network's keys are its \
				 launcher's. Validators use the spec file the launcher publishes (--chain FILE); \
				 a launcher writes a launch file (see chain-specs/testnet.launch.example.json) and \
				 exports the spec with `noderr-node export-chain-spec --chain launch:FILE`"
				.into())
		}
		launch if launch.starts_with("launch:") => Box::new(live(&launch["launch:".len()..])?),
		path => {
			let file = std::path::PathBuf::from(path);
			if !file.is_file() {
				return Err(format!(
					"unknown chain '{path}': use one of {}, launch:FILE or the path to a chain-spec \
					 JSON file",
					BUILT_IN.join(", ")
				));
			}
			Box::new(ChainSpec::from_json_file(file).map_err(|e| {
				format!(
					"cannot read chain spec '{path}': {e}. Re-export it with \
					 `noderr-node export-chain-spec --chain <name>` or use a file from chain-specs/"
				)
			})?)
		}
	})
}

/// A live network's launch file: who validates, governs, holds and operates at genesis. Keys
/// are SS58 addresses (or 0x-prefixed hex public keys); balances are strings of planck (10^-12
/// NODERR) or numbers.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LaunchFile {
	name: String,
	id: String,
	#[serde(default)]
	boot_nodes: Vec<String>,
	sudo: String,
	validators: Vec<LaunchValidator>,
	endowed: Vec<(String, Amount)>,
	#[serde(default)]
	operators: Vec<(String, String, Amount)>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchValidator {
	account: String,
	aura: String,
	grandpa: String,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Amount {
	Text(String),
	Number(u64),
}

impl Amount {
	fn planck(&self, what: &str) -> Result<u128, String> {
		match self {
			Self::Number(n) => Ok(u128::from(*n)),
			Self::Text(t) => {
				t.parse().map_err(|_| format!("{what}: {t:?} is not a whole number of planck"))
			}
		}
	}
}

/// 32 public-key bytes from an SS58 address or 0x-prefixed hex.
fn public_bytes(text: &str, what: &str) -> Result<[u8; 32], String> {
	if let Some(hex) = text.strip_prefix("0x") {
		let bytes =
			sp_core::bytes::from_hex(hex).map_err(|_| format!("{what}: {text:?} is not hex"))?;
		return bytes.try_into().map_err(|_| format!("{what}: {text:?} is not 32 bytes"));
	}
	sp_core::sr25519::Public::from_ss58check(text).map(|p| p.0).map_err(|e| {
		format!("{what}: {text:?} is not an SS58 address or 0x-hex public key ({e:?})")
	})
}

/// The public keys anyone can sign with: the dev keyring's sr25519 and ed25519 keys, their
/// stash derivations included.
fn well_known_keys() -> Vec<([u8; 32], String)> {
	let sr =
		sp_keyring::Sr25519Keyring::iter().map(|k| (k.public().0, format!("//{k:?} (sr25519)")));
	let ed =
		sp_keyring::Ed25519Keyring::iter().map(|k| (k.public().0, format!("//{k:?} (ed25519)")));
	sr.chain(ed).collect()
}

/// A key from a launch file, refused if it is a well-known development key.
fn launch_key(text: &str, what: &str, known: &[([u8; 32], String)]) -> Result<[u8; 32], String> {
	let bytes = public_bytes(text, what)?;
	if let Some((_, name)) = known.iter().find(|(k, _)| *k == bytes) {
		return Err(format!(
			"{what} is the well-known development key {name}: anyone can sign with it. A live \
			 network needs keys only its owners hold (`noderr-node key generate`)"
		));
	}
	Ok(bytes)
}

/// Builds a live network's spec from its launch file.
pub fn live(path: &str) -> Result<ChainSpec, String> {
	let text = std::fs::read_to_string(path).map_err(|e| format!("launch file {path}: {e}"))?;
	let launch: LaunchFile =
		serde_json::from_str(&text).map_err(|e| format!("launch file {path}: {e}"))?;
	let known = well_known_keys();
	let account = |text: &str, what: &str| -> Result<AccountId, String> {
		launch_key(text, what, &known).map(AccountId::from)
	};
	if launch.validators.is_empty() {
		return Err(format!("launch file {path}: a network needs at least one validator"));
	}
	let validators = launch
		.validators
		.iter()
		.enumerate()
		.map(|(i, v)| {
			let what = |k: &str| format!("validator {} {k}", i + 1);
			Ok(Validator {
				account: account(&v.account, &what("account"))?,
				aura: sp_core::sr25519::Public::from_raw(launch_key(
					&v.aura,
					&what("aura key"),
					&known,
				)?)
				.into(),
				grandpa: sp_core::ed25519::Public::from_raw(launch_key(
					&v.grandpa,
					&what("grandpa key"),
					&known,
				)?)
				.into(),
			})
		})
		.collect::<Result<Vec<_>, String>>()?;
	let mut endowed = Vec::new();
	for (i, (who, amount)) in launch.endowed.iter().enumerate() {
		let what = format!("endowed account {}", i + 1);
		let who = account(who, &what)?;
		if who == noderr_runtime::configs::TreasuryAccount::get() {
			return Err(format!("{what} is the treasury, which genesis endows itself"));
		}
		if endowed.iter().any(|(a, _)| *a == who) {
			return Err(format!("{what} is listed twice"));
		}
		endowed.push((who, amount.planck(&what)?));
	}
	let operators = launch
		.operators
		.iter()
		.enumerate()
		.map(|(i, (who, name, bond))| {
			let what = format!("operator {}", i + 1);
			Ok((account(who, &what)?, name.as_bytes().to_vec(), bond.planck(&what)?))
		})
		.collect::<Result<Vec<_>, String>>()?;
	let network = LiveNetwork {
		validators,
		root: account(&launch.sudo, "the sudo key")?,
		endowed,
		operators,
	};
	let boot_nodes = launch
		.boot_nodes
		.iter()
		.map(|a| a.parse().map_err(|e| format!("boot node {a}: {e}")))
		.collect::<Result<Vec<_>, String>>()?;
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(&launch.name)
		.with_id(&launch.id)
		.with_protocol_id("noderr")
		.with_chain_type(ChainType::Live)
		.with_boot_nodes(boot_nodes)
		.with_genesis_config_patch(live_genesis(network))
		.with_properties(properties())
		.build())
}

#[cfg(test)]
mod tests {
	use super::*;
	use sc_service::ChainSpec as _;
	use sp_core::{crypto::Ss58Codec, ed25519, sr25519, Pair};

	fn address(seed: u8) -> String {
		sr25519::Pair::from_seed(&[seed; 32]).public().to_ss58check()
	}

	fn launch(sudo: &str, grandpa: &str) -> String {
		serde_json::json!({
			"name": "Noderr Testnet",
			"id": "noderr_testnet",
			"bootNodes": ["/ip4/10.0.0.1/tcp/30333/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"],
			"sudo": sudo,
			"validators": [{ "account": address(1), "aura": address(2), "grandpa": grandpa }],
			"endowed": [[address(1), "1000000000000000"], [sudo, 5_000_000_000_000u64]],
			"operators": [],
		})
		.to_string()
	}

	fn write(text: &str) -> std::path::PathBuf {
		let dir = std::env::temp_dir().join(format!("noderr-launch-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let file = dir.join(format!(
			"{}.json",
			sp_core::hexdisplay::HexDisplay::from(&sp_io::hashing::blake2_128(text.as_bytes()))
		));
		std::fs::write(&file, text).unwrap();
		file
	}

	#[test]
	fn no_live_spec_holds_a_well_known_key() {
		let grandpa = ed25519::Pair::from_seed(&[3; 32]).public().to_ss58check();
		let spec = live(write(&launch(&address(4), &grandpa)).to_str().unwrap()).unwrap();
		assert_eq!(spec.chain_type(), ChainType::Live);
		// The raw genesis storage (what nodes start from) and the plain spec, without the
		// runtime's code: the wasm carries the dev presets (and so can hold a dev key's bytes),
		// which only dev chains use; what a live chain starts with is the rest.
		for raw in [false, true] {
			let mut value: serde_json::Value =
				serde_json::from_str(&spec.as_json(raw).unwrap()).unwrap();
			let genesis = &mut value["genesis"];
			let code = if raw {
				genesis["raw"]["top"].as_object_mut().unwrap().remove("0x3a636f6465")
			} else {
				genesis["runtimeGenesis"].as_object_mut().unwrap().remove("code")
			};
			assert!(code.is_some(), "the runtime's code is in the spec");
			let json = value.to_string();
			for (key, name) in well_known_keys() {
				let hex = format!("{}", sp_core::hexdisplay::HexDisplay::from(&key));
				assert!(
					!json.contains(&hex),
					"{name} in the {} spec",
					if raw { "raw" } else { "plain" }
				);
				let ss58 = sr25519::Public::from_raw(key).to_ss58check();
				assert!(!json.contains(&ss58), "{name} in the spec");
			}
		}
		assert!(spec.as_json(false).unwrap().contains(&address(4)), "the launcher's sudo key");
		// No built-in spec is live.
		for id in BUILT_IN {
			assert_ne!(load(id).unwrap().chain_type(), ChainType::Live, "{id}");
		}
	}

	#[test]
	fn a_launch_file_with_a_development_key_or_a_mistake_is_refused() {
		let grandpa = ed25519::Pair::from_seed(&[3; 32]).public().to_ss58check();
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id().to_ss58check();
		let alice_ed = sp_keyring::Ed25519Keyring::Alice.public().to_ss58check();
		let refused = |text: String| live(write(&text).to_str().unwrap()).err().expect("refused");
		assert!(refused(launch(&alice, &grandpa)).contains("well-known development key //Alice"));
		assert!(refused(launch(&address(4), &alice_ed))
			.contains("validator 1 grandpa key is the well-known"));
		assert!(
			refused(launch("nonsense", &grandpa)).contains("\"nonsense\" is not an SS58 address")
		);
		let twice = launch(&address(1), &grandpa);
		assert!(refused(twice).contains("endowed account 2 is listed twice"));
		assert!(refused("{}".into()).contains("missing field"));
		assert!(load("testnet").unwrap_err().contains("launch:FILE"));
		let example =
			concat!(env!("CARGO_MANIFEST_DIR"), "/../chain-specs/testnet.launch.example.json");
		assert!(
			live(example).err().expect("refused").contains("is not an SS58"),
			"the example's placeholders"
		);
	}
}
