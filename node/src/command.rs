//! Dispatches the command line: run the node or one of the standard subcommands.

// `sc_cli::Error` is large, but sc-cli's `Runner` fixes it as the error type of every
// subcommand closure: boxing it here is not possible.
#![allow(clippy::result_large_err)]

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Noderr Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	/// Where panic messages send users: the issues of the repository the workspace names.
	fn support_url() -> String {
		concat!(env!("CARGO_PKG_REPOSITORY"), "/issues").into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		chain_spec::load(id)
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		}
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd.run_with_spec::<sp_runtime::traits::HashingFor<
					noderr_runtime::Block,
				>, ()>(Some(config.chain_spec)),
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, frame_benchmarking_cli::SUBSTRATE_REFERENCE_HARDWARE.clone())
				}
				_ => Err("only `benchmark pallet` and `benchmark machine` are supported".into()),
			})
		}
		Some(Subcommand::Models(cmd)) => {
			crate::model_store::print_status(cmd).map_err(sc_cli::Error::Input)
		}
		Some(Subcommand::Results(cmd)) => crate::results::run(cmd).map_err(sc_cli::Error::Input),
		Some(Subcommand::Status(cmd)) => crate::status::run(cmd).map_err(sc_cli::Error::Input),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<noderr_runtime::Block>(&config))
		}
		None => {
			let runner = cli.create_runner(&cli.run)?;
			crate::preflight::check_ports(runner.config()).map_err(sc_cli::Error::Input)?;
			let ml = cli.ml.clone();
			if !ml.no_ml && ml.ml_external.is_none() {
				if let Some(warning) =
					noderr_ml::service::check_exposure(ml.ml_rpc_addr, ml.ml_rpc_external)
						.map_err(sc_cli::Error::Input)?
				{
					log::warn!("⚠️  {warning}");
				}
				crate::preflight::check_ml_port(ml.ml_rpc_addr).map_err(sc_cli::Error::Input)?;
			}
			runner.run_node_until_exit(|config| async move {
				let ml_config =
					(!ml.no_ml && ml.ml_external.is_none()).then(|| crate::model_store::MlConfig {
						service: noderr_ml::service::Config {
							addr: ml.ml_rpc_addr,
							models: None,
							workers: ml.ml_workers.max(1),
							max_connections: 64,
							allowed_origins: ml.ml_rpc_allow_origin.clone(),
							faulty: ml.ml_test_faulty,
						},
						store: config.base_path.path().join("models"),
						import_dir: ml.ml_models.clone(),
						operator: ml.ml_operator.clone(),
					});
				if let Some(url) = &ml.ml_external {
					log::info!("🧠 ML service: external, at {url}");
				}
				let worker = service::WorkerSettings {
					ml_url: match (&ml.ml_external, ml.no_ml) {
						(Some(url), _) => Some(url.clone()),
						(None, true) => None,
						(None, false) => Some(format!("http://{}", ml.ml_rpc_addr)),
					},
					market_sources: ml.market_source.clone(),
				};
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<
							sc_network::NetworkWorker<
								noderr_runtime::opaque::Block,
								<noderr_runtime::opaque::Block as sp_runtime::traits::Block>::Hash,
							>,
						>(config, ml_config, worker)
						.map_err(sc_cli::Error::Service)
					}
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config, ml_config, worker,
						)
						.map_err(sc_cli::Error::Service)
					}
				}
			})
		}
	}
}
