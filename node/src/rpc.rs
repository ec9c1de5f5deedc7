//! The node's own JSON-RPC methods, merged with the standard ones (`system_*`, `chain_*`,
//! `state_*`, `author_*`) that `sc-service` provides.

use jsonrpsee::{
	types::{ErrorObject, ErrorObjectOwned},
	RpcModule,
};
use noderr_runtime::{opaque::Block, AccountId, Balance, Nonce};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use sp_keystore::KeystorePtr;
use std::sync::Arc;

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// The node's keystore.
	pub keystore: KeystorePtr,
}

/// Builds the node's RPC module: account nonces, fee queries and worker keys.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, keystore } = deps;
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client).into_rpc())?;
	module.merge(worker_keys(keystore))?;
	Ok(module)
}

/// The worker-key methods, both unsafe like `author_rotateKeys` (they touch the keystore): on a
/// node started with `--rpc-methods unsafe`, or on its localhost port with the default policy.
/// - `worker_generateKey`: a new worker key (key type `nwrk`, sr25519) in the node's keystore.
///   Its secret never leaves the node. The operator links the returned public key (the worker
///   account) with `inference.linkWorker` from polkadot.js.
/// - `worker_keys`: the worker keys the keystore holds (the off-chain worker submits with each
///   one that is linked).
fn worker_keys(keystore: KeystorePtr) -> RpcModule<()> {
	use noderr_primitives::WORKER_KEY_TYPE;
	use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
	let describe = |public: sp_core::sr25519::Public| {
		let ss58 = public.to_ss58check_with_version(Ss58AddressFormat::custom(42));
		serde_json::json!({ "public": format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&public.0)), "ss58": ss58 })
	};
	let mut module = RpcModule::new(());
	let store = keystore.clone();
	module
		.register_method("worker_generateKey", move |_, _, ext| {
			sc_rpc_api::check_if_safe(ext)?;
			let public = store.sr25519_generate_new(WORKER_KEY_TYPE, None).map_err(|e| {
				ErrorObject::owned(5100, format!("the keystore cannot make a key: {e}"), None::<()>)
			})?;
			log::info!("🔑 new worker key {}", describe(public)["ss58"]);
			Ok::<_, ErrorObjectOwned>(describe(public))
		})
		.expect("a fresh module has no methods");
	module
		.register_method("worker_keys", move |_, _, ext| {
			sc_rpc_api::check_if_safe(ext)?;
			let keys: Vec<_> =
				keystore.sr25519_public_keys(WORKER_KEY_TYPE).into_iter().map(describe).collect();
			Ok::<_, ErrorObjectOwned>(serde_json::Value::from(keys))
		})
		.expect("a fresh module has no methods");
	module
}
