//! Command-line interface of `noderr-node`.

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated in favour of `export-chain-spec`).
	#[deprecated(note = "use export-chain-spec instead")]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a built-in chain or a chain-spec file.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Sub-commands concerned with benchmarking (node built with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	/// A subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options for running the node.
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Options of the embedded ML service.
	#[clap(flatten)]
	pub ml: MlParams,
}

/// The ML service: started inside the node by default, or an external one.
#[derive(Debug, Clone, clap::Args)]
pub struct MlParams {
	/// Directory of model artifacts (*.nrm) the embedded ML service loads. Defaults to
	/// `models` in the node's base path.
	#[arg(long, value_name = "DIR")]
	pub ml_models: Option<std::path::PathBuf>,

	/// Address of the embedded ML service's JSON-RPC server (loopback by default: off-chain
	/// workers reach it over HTTP on this machine).
	#[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9955")]
	pub ml_rpc_addr: std::net::SocketAddr,

	/// Inference requests computed at once (one libtorch thread and one copy of the models each).
	#[arg(long, value_name = "N", default_value_t = 1)]
	pub ml_workers: usize,

	/// Use the ML service at this URL (for example on a GPU machine) instead of starting one.
	#[arg(long, value_name = "URL", conflicts_with_all = ["ml_models", "no_ml"])]
	pub ml_external: Option<String>,

	/// Do not start the embedded ML service.
	#[arg(long)]
	pub no_ml: bool,
}
