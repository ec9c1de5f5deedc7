//! The node's model store: it keeps the artifacts the chain's model registry lists for its
//! operator's tier in `<base-path>/models`, verified by size and blake2-256 hash, and has the
//! embedded ML service serve exactly those.
//!
//! - [`sync`]: the loop that follows the registry and the download tasks it starts;
//! - [`download`]: one artifact from peers, each bounded in time and blamed for its own bytes;
//! - [`peers`]: the artifact protocol, served to peers and used to fetch from them;
//! - [`metrics`]: Prometheus metrics;
//! - [`status`]: the `models_status` RPC method and the `noderr-node models` command.
//!
//! The service calls [`prepare`] while it configures the network (it starts the ML service,
//! opens the store and adds the artifact protocol) and [`Prepared::start`] once the network
//! runs.

// `sc_service::Error` is large, but it is the error type the service's builders return.
#![allow(clippy::result_large_err)]

mod download;
mod metrics;
mod peers;
mod status;
mod sync;
#[cfg(test)]
mod tests;

pub use status::{label, print_status};

use crate::client::FullClient;
use noderr_ml::{service::Models, store::Store};
use noderr_runtime::{opaque::Block, AccountId};
use sc_network::{config::IncomingRequest, service::traits::NetworkService, ProtocolName};
use sc_service::{error::Error as ServiceError, TaskManager};
use std::{collections::HashMap, sync::Arc, time::Duration};

type Hash = <Block as sp_runtime::traits::Block>::Hash;

/// The embedded ML service and the model store that feeds it.
pub struct MlConfig {
	/// The JSON-RPC service.
	pub service: noderr_ml::service::Config,
	/// The content-addressed model store (`models` in the base path).
	pub store: std::path::PathBuf,
	/// The operator's directory of artifacts to import (`--ml-models`).
	pub import_dir: Option<std::path::PathBuf>,
	/// The operator whose tier decides the models (`--ml-operator`).
	pub operator: Option<AccountId>,
}

/// The ML service started and the store opened, waiting for the network.
pub struct Prepared {
	ml: MlConfig,
	models: Models,
	store: Store,
	protocol: ProtocolName,
	requests: async_channel::Receiver<IncomingRequest>,
}

/// Starts the embedded ML service (serving no model until the store loads the verified ones),
/// opens the store and adds the artifact protocol to the network configuration. If the ML
/// service cannot listen or the store cannot be opened, the node stops with the reason.
pub fn prepare<N: sc_network::NetworkBackend<Block, Hash>>(
	ml: MlConfig,
	genesis: Hash,
	net_config: &mut sc_network::config::FullNetworkConfiguration<Block, Hash, N>,
	task_manager: &TaskManager,
	registry: Option<&prometheus_endpoint::Registry>,
) -> Result<Prepared, ServiceError> {
	let models = start_ml_service(task_manager, &ml, registry)?;
	let opened = std::time::Instant::now();
	let (store, report) = Store::open_with_report(&ml.store)
		.map_err(|e| ServiceError::Other(format!("model store {}: {e}", ml.store.display())))?;
	log::info!(
		"📦 model store opened in {} ms: {} file(s) trusted by their verification record, {} \
		 hashed, {} dropped, {} unreadable",
		opened.elapsed().as_millis(),
		report.trusted,
		report.verified,
		report.dropped,
		report.unreadable
	);
	let protocol = peers::protocol_name(genesis.as_ref());
	let (tx, requests) = async_channel::bounded(32);
	net_config.add_request_response_protocol(N::request_response_config(
		protocol.clone(),
		Vec::new(),
		1024,
		peers::CHUNK as u64 + 1024,
		Duration::from_secs(30),
		Some(tx),
	));
	Ok(Prepared { ml, models, store, protocol, requests })
}

impl Prepared {
	/// Serves the store to peers and starts following the registry; returns what the node's
	/// RPC needs for `models_status`.
	pub fn start(
		self,
		client: Arc<FullClient>,
		network: Arc<dyn NetworkService>,
		sync: Arc<sc_network_sync::SyncingService<Block>>,
		spawn: &sc_service::SpawnTaskHandle,
		registry: Option<&prometheus_endpoint::Registry>,
	) -> Result<StatusRpc, ServiceError> {
		let metrics = registry
			.map(metrics::Metrics::register)
			.transpose()
			.map_err(|e| ServiceError::Other(format!("model store metrics: {e}")))?;
		let http = noderr_ml::store::Http::new().map_err(ServiceError::Other)?;
		spawn.spawn("model-peers", None, peers::serve(self.requests, self.store.clone()));
		let fetcher = Arc::new(sync::Fetcher {
			store: self.store.clone(),
			models: self.models.clone(),
			http,
			import_dir: self.ml.import_dir,
			network,
			sync,
			protocol: self.protocol,
			metrics,
			limits: download::Limits::NODE,
			blamed: std::sync::Mutex::new(HashMap::new()),
		});
		let operator = self.ml.operator;
		let follow =
			sync::ModelSync { client: client.clone(), operator: operator.clone(), fetcher };
		spawn.spawn("model-store", None, follow.run());
		Ok(StatusRpc { client, store: self.store, models: self.models, operator })
	}
}

/// What the `models_status` RPC method reads.
#[derive(Clone)]
pub struct StatusRpc {
	client: Arc<FullClient>,
	store: Store,
	models: Models,
	operator: Option<AccountId>,
}

impl StatusRpc {
	/// The `models_status` RPC method: [`status::status`]. Unsafe (it re-hashes the store), so
	/// only on a node started with `--rpc-methods unsafe` or listening on localhost with the
	/// default policy.
	pub fn module(&self) -> jsonrpsee::RpcModule<()> {
		let this = self.clone();
		let mut module = jsonrpsee::RpcModule::new(());
		module
			.register_blocking_method("models_status", move |_, _, ext| {
				sc_rpc_api::check_if_safe(&ext)?;
				status::status(&this.client, &this.store, &this.models, this.operator.as_ref())
					.map_err(|e| jsonrpsee::types::ErrorObject::owned(5000, e, None::<()>))
			})
			.expect("a fresh module has no methods");
		module
	}
}

/// Starts the embedded ML service and returns the handle that changes its models. It serves
/// JSON-RPC until the node stops; its metrics join the node's Prometheus registry.
fn start_ml_service(
	task_manager: &TaskManager,
	ml: &MlConfig,
	registry: Option<&prometheus_endpoint::Registry>,
) -> Result<Models, ServiceError> {
	let registry = registry.cloned().unwrap_or_default();
	let (module, models) = noderr_ml::service::module(&ml.service, &registry)
		.map_err(|e| ServiceError::Other(format!("ML service: {e}")))?;
	let config = ml.service.clone();
	task_manager.spawn_essential_handle().spawn("ml-service", None, async move {
		match noderr_ml::service::serve(&config, module).await {
			Ok((addr, handle)) => {
				log::info!("🧠 ML service on http://{addr}");
				handle.stopped().await;
			}
			Err(e) => log::error!("ML service: {e}"),
		}
	});
	Ok(models)
}
