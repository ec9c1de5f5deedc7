//! Assembles the node: client, ParityDB backend, transaction pool, networking, Aura block
//! production, GRANDPA finality, off-chain workers (with HTTP, used to reach the ML service)
//! and JSON-RPC.

// `sc_service::Error` is large, but it is the error type the SDK's builders and sc-cli's
// `Runner` expect from these functions.
#![allow(clippy::result_large_err)]

use futures::FutureExt;
use noderr_runtime::{apis::RuntimeApi, opaque::Block};
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair};
use std::{sync::Arc, time::Duration};

pub use crate::client::FullClient;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;

/// Blocks between two GRANDPA justifications kept for sync.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the node that subcommands such as `check-block` and `revert` need too.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// Inherent data for a block: the slot and the timestamp.
fn inherent_providers(
	slot_duration: sp_consensus_aura::SlotDuration,
) -> (sp_consensus_aura::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider) {
	let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
	let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
		*timestamp,
		slot_duration,
	);
	(slot, timestamp)
}

/// Builds the client, database, pool and import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<sp_io::SubstrateHostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let cidp_client = client.clone();
	let import_queue =
		sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
			block_import: grandpa_block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import.clone())),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					Ok(inherent_providers(slot_duration))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// What the node tells its off-chain worker.
pub struct WorkerSettings {
	/// The ML service's JSON-RPC URL (embedded or `--ml-external`); none with `--no-ml`.
	pub ml_url: Option<String>,
	/// `--market-source` values, FORMAT=URL.
	pub market_sources: Vec<String>,
}

/// Writes the worker's settings where it reads them: persistent off-chain storage.
fn write_worker_settings(
	backend: &FullBackend,
	settings: &WorkerSettings,
) -> Result<(), ServiceError> {
	use codec::Encode;
	use sp_core::offchain::{OffchainStorage, STORAGE_PREFIX};
	let mut storage = backend
		.offchain_storage()
		.ok_or_else(|| ServiceError::Other("the database has no off-chain storage".into()))?;
	let ml_key = pallet_inference::offchain::ML_URL_KEY;
	match &settings.ml_url {
		Some(url) => storage.set(STORAGE_PREFIX, ml_key, &url.as_bytes().to_vec().encode()),
		None => storage.remove(STORAGE_PREFIX, ml_key),
	}
	let sources = settings.market_sources.join("\n");
	storage.set(
		STORAGE_PREFIX,
		pallet_inference::offchain::MARKET_SOURCES_KEY,
		&sources.as_bytes().to_vec().encode(),
	);
	if !settings.market_sources.is_empty() {
		log::info!("📈 market sources: {}", settings.market_sources.join(", "));
	}
	Ok(())
}

/// On development and local networks the node holds the worker keys their presets link to the
/// dev operators: all three on `--dev` (one node plays every operator), the validator's own
/// operator's (`--alice` → Dave, `--bob` → Eve, `--charlie` → Ferdie) on a local network.
fn insert_dev_worker_keys(
	config: &Configuration,
	keystore: &sp_keystore::KeystorePtr,
) -> Result<(), ServiceError> {
	use sc_service::ChainType;
	let seeds: &[&str] = match (config.chain_spec.chain_type(), config.dev_key_seed.as_deref()) {
		(ChainType::Development, _) => &["//Dave", "//Eve", "//Ferdie"],
		(ChainType::Local, Some("//Alice")) => &["//Dave"],
		(ChainType::Local, Some("//Bob")) => &["//Eve"],
		(ChainType::Local, Some("//Charlie")) => &["//Ferdie"],
		_ => &[],
	};
	for seed in seeds {
		keystore
			.sr25519_generate_new(noderr_primitives::WORKER_KEY_TYPE, Some(seed))
			.map_err(|e| ServiceError::Other(format!("worker key {seed}: {e}")))?;
	}
	Ok(())
}

/// Builds and starts the full node.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	ml: Option<crate::model_store::MlConfig>,
	worker: WorkerSettings,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry),
	} = new_partial(&config)?;

	write_worker_settings(&backend, &worker)?;
	insert_dev_worker_keys(&config, &keystore_container.keystore())?;
	if let (Some(registry), Some(storage)) =
		(config.prometheus_registry(), backend.offchain_storage())
	{
		crate::worker_metrics::WorkerMetrics::register(storage, registry)?;
	}
	if let Some(registry) = config.prometheus_registry() {
		let exporter = crate::chain_metrics::exporter(
			client.clone(),
			keystore_container.keystore(),
			registry,
		)?;
		task_manager.spawn_handle().spawn("chain-metrics", None, exporter);
	}

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let peer_store_handle = net_config.peer_store_handle();
	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database holds no genesis block".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			peer_store_handle,
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	// Peers fetch model artifacts from each other by hash.
	let ml = ml
		.map(|ml| {
			crate::model_store::prepare(
				ml,
				genesis_hash,
				&mut net_config,
				&task_manager,
				config.prometheus_registry(),
			)
		})
		.transpose()?;

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let models_rpc = match ml {
		Some(ml) => Some(ml.start(
			client.clone(),
			network.clone(),
			sync_service.clone(),
			&task_manager.spawn_handle(),
			config.prometheus_registry(),
		)?),
		None => None,
	};

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				// Workers reach the ML service over the standard off-chain HTTP API.
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers
				.run(
					Arc::new(ImportsAfterPool {
						client: client.clone(),
						pool: transaction_pool.clone(),
						spawn: task_manager.spawn_handle(),
					}),
					task_manager.spawn_handle(),
				)
				.boxed(),
		);
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let keystore = keystore_container.keystore();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				keystore: keystore.clone(),
			};
			let mut module = crate::rpc::create_full(deps)?;
			if let Some(status) = &models_rpc {
				module.merge(status.module()).map_err(|e| ServiceError::Other(e.to_string()))?;
			}
			Ok(module)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: Arc::new(network.clone()),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;
		let (beacon_client, beacon_keystore) = (client.clone(), keystore_container.keystore());

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |parent, ()| {
					let (client, keystore) = (beacon_client.clone(), beacon_keystore.clone());
					async move {
						let (slot, timestamp) = inherent_providers(slot_duration);
						// The slot's author contributes to the randomness beacon.
						let beacon = crate::beacon::BeaconContribution::new(
							&*client, &keystore, parent, **slot,
						);
						Ok((slot, timestamp, beacon))
					}
				},
				force_authoring,
				backoff_authoring_blocks: Option::<()>::None,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Block authoring is essential: if it fails the node stops.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if enable_grandpa {
		// Only an authority votes, so only an authority needs the keystore.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };

		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};

		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};

		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}

/// The client's block imports as the off-chain workers see them: each new best block announced
/// once the transaction pool has taken it in (its view of the pool at that block exists, or 2 s
/// passed).
///
/// Without this, a worker that submits within a millisecond of the import (a reveal needs no ML
/// call) could reach the pool while it still only knew the parent block: the pool checks a local
/// submission against the views it has, the reveal is not valid yet at the parent (the commit
/// phase ended in the new block), and the pool drops it while reporting success. One reveal in
/// ten (6 of 60 tasks in `worker-load.test.mjs`) was lost that way and resubmitted three blocks later.
struct ImportsAfterPool<P> {
	client: Arc<FullClient>,
	pool: Arc<P>,
	spawn: sc_service::SpawnTaskHandle,
}

impl<P> sc_client_api::BlockchainEvents<Block> for ImportsAfterPool<P>
where
	P: sc_transaction_pool_api::TransactionPool<Block = Block> + 'static,
{
	fn import_notification_stream(&self) -> sc_client_api::ImportNotifications<Block> {
		let (sender, receiver) =
			sc_utils::mpsc::tracing_unbounded("mpsc_offchain_imports", 100_000);
		let mut imports = self.client.import_notification_stream();
		let pool = self.pool.clone();
		self.spawn.spawn("offchain-imports-after-pool", Some("offchain-worker"), async move {
			use futures::StreamExt;
			while let Some(import) = imports.next().await {
				if import.is_new_best {
					let wait = std::time::Duration::from_secs(2);
					if tokio::time::timeout(wait, pool.ready_at(import.hash)).await.is_err() {
						log::debug!(
							target: "noderr::worker",
							"the pool took more than 2 s to take in block {}",
							import.hash
						);
					}
				}
				if sender.unbounded_send(import).is_err() {
					break;
				}
			}
		});
		receiver
	}

	fn every_import_notification_stream(&self) -> sc_client_api::ImportNotifications<Block> {
		self.client.every_import_notification_stream()
	}

	fn finality_notification_stream(&self) -> sc_client_api::FinalityNotifications<Block> {
		self.client.finality_notification_stream()
	}

	fn storage_changes_notification_stream(
		&self,
		filter_keys: Option<&[sc_client_api::StorageKey]>,
		child_filter_keys: Option<
			&[(sc_client_api::StorageKey, Option<Vec<sc_client_api::StorageKey>>)],
		>,
	) -> sp_blockchain::Result<
		sc_client_api::StorageEventStream<<Block as sp_runtime::traits::Block>::Hash>,
	> {
		self.client.storage_changes_notification_stream(filter_keys, child_filter_keys)
	}
}
