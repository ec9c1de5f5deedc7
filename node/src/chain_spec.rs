//! Chain specifications built into the node: `dev`, `local` and `testnet`, each from the
//! runtime's genesis preset of the same purpose.

use noderr_runtime::{
	genesis_config_presets::TESTNET_RUNTIME_PRESET, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL,
	WASM_BINARY,
};
use sc_service::ChainType;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The chain specification type of this node.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The names `--chain` accepts besides a path to a chain-spec file.
pub const BUILT_IN: &[&str] = &["dev", "local", "testnet"];

fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn build(name: &str, id: &str, chain_type: ChainType, preset: &str) -> Result<ChainSpec, String> {
	let wasm = WASM_BINARY.ok_or_else(|| {
		"the node was built without its wasm runtime (SKIP_WASM_BUILD was set); rebuild it \
		 without SKIP_WASM_BUILD"
			.to_string()
	})?;
	Ok(ChainSpec::builder(wasm, None)
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

/// Three-validator public test network (Alice, Bob, Charlie).
pub fn testnet() -> Result<ChainSpec, String> {
	build("Noderr Testnet", "noderr_testnet", ChainType::Live, TESTNET_RUNTIME_PRESET)
}

/// Resolves `--chain`: a built-in name, or a path to a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development()?),
		"" | "local" => Box::new(local_testnet()?),
		"testnet" => Box::new(testnet()?),
		path => {
			let file = std::path::PathBuf::from(path);
			if !file.is_file() {
				return Err(format!(
					"unknown chain '{path}': use one of {} or the path to a chain-spec JSON file",
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
