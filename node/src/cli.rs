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

	/// List a running node's model store against the on-chain model registry: each registered
	/// version, whether this node's tier serves it, whether its artifact is present, missing,
	/// partial or has a wrong hash, whether the ML service serves it; then stored files the
	/// registry no longer lists.
	Models(ModelsCmd),

	/// Print the tasks a running node's chain settled: kind, model, answer, dispersion,
	/// participation, rewards and blocks from creation to settlement; and the bars feeds add.
	/// With `--follow`, keep printing as blocks are finalized.
	Results(ResultsCmd),

	/// An operator's standing, from a running node: this node's height, peers and worker keys;
	/// then for each operator its staking state, tier and bond, unbonding and pending slashes,
	/// the worker key it linked and whether its heartbeat is live, its record (assigned, agreed,
	/// strikes, rewards), its open tasks with what its worker must do next, and its confirmed
	/// offences and counted missed reveals.
	Status(StatusCmd),
}

/// Options of `noderr-node results`.
#[derive(Debug, Clone, clap::Args)]
pub struct ResultsCmd {
	/// The node's JSON-RPC HTTP endpoint.
	#[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9944")]
	pub rpc_url: String,

	/// Keep following finalized blocks until interrupted.
	#[arg(long, short)]
	pub follow: bool,

	/// Start at this block (default: `--blocks` before the finalized head).
	#[arg(long, value_name = "NUMBER")]
	pub from: Option<u32>,

	/// How many finalized blocks back to start when `--from` is not given.
	#[arg(long, value_name = "COUNT", default_value_t = 100)]
	pub blocks: u32,

	/// One JSON object per line instead of text.
	#[arg(long)]
	pub json: bool,
}

/// Options of `noderr-node status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusCmd {
	/// The node's JSON-RPC HTTP endpoint (its localhost port: listing the worker keys is an
	/// unsafe method).
	#[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9944")]
	pub rpc_url: String,

	/// The operator account (SS58) to report on; repeat for several. Default: the operators
	/// that the worker keys in the node's keystore are linked to.
	#[arg(long, value_name = "ACCOUNT")]
	pub operator: Vec<String>,

	/// Print one JSON object instead of text.
	#[arg(long)]
	pub json: bool,
}

/// Options of `noderr-node models`.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelsCmd {
	/// The node's JSON-RPC HTTP endpoint.
	#[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9944")]
	pub rpc_url: String,

	/// Print the node's answer as JSON.
	#[arg(long)]
	pub json: bool,
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
	/// A directory of model artifacts (*.nrm) to import: files whose size and hash the model
	/// registry lists are copied into the node's model store (`models` in the base path)
	/// instead of being fetched from peers or the registered locations.
	#[arg(long, value_name = "DIR")]
	pub ml_models: Option<std::path::PathBuf>,

	/// The operator account (SS58) whose tier decides which registered models this node
	/// fetches and serves. Without it the node serves the models of every tier.
	#[arg(long, value_name = "ACCOUNT")]
	pub ml_operator: Option<noderr_runtime::AccountId>,

	/// Address of the embedded ML service's JSON-RPC server (loopback by default: off-chain
	/// workers reach it over HTTP on this machine).
	#[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9955")]
	pub ml_rpc_addr: std::net::SocketAddr,

	/// Allow an `--ml-rpc-addr` that is not loopback: anyone who reaches it can use this
	/// machine's inference capacity, so firewall it.
	#[arg(long)]
	pub ml_rpc_external: bool,

	/// A browser origin (`http://host:port`) allowed to call the embedded ML service; repeat for
	/// several. Requests with any other `Origin` header are refused.
	#[arg(long, value_name = "ORIGIN")]
	pub ml_rpc_allow_origin: Vec<String>,

	/// Inference requests computed at once (one libtorch thread each; the models are loaded once
	/// and shared).
	#[arg(long, value_name = "N", default_value_t = 1)]
	pub ml_workers: usize,

	/// Use the ML service at this URL (for example on a GPU machine) instead of starting one.
	#[arg(long, value_name = "URL", conflicts_with_all = ["ml_models", "ml_operator", "no_ml"])]
	pub ml_external: Option<String>,

	/// Do not start the embedded ML service.
	#[arg(long)]
	pub no_ml: bool,

	/// TEST ONLY: the embedded ML service answers wrongly on purpose, `bias:N` (N fixed-point
	/// units added to every number, the next class reported) or `random-class`, so that tests
	/// can run a dishonest operator and watch the guardians slash it. Never on a real network.
	#[arg(long, value_name = "MODE", value_parser = noderr_ml::service::Faulty::parse)]
	pub ml_test_faulty: Option<noderr_ml::service::Faulty>,

	/// A market-data source the off-chain worker observes feeds from, as FORMAT=URL: `binance`
	/// (klines) or `coinbase` (candles) and the source's base URL, for example
	/// `binance=https://api.binance.com`. Repeat for several; each observed bar is the median
	/// of the sources that answer. Without any, the worker does not observe markets.
	#[arg(long, value_name = "FORMAT=URL", value_parser = parse_market_source)]
	pub market_source: Vec<String>,
}

fn parse_market_source(s: &str) -> Result<String, String> {
	let (format, url) = s.split_once('=').ok_or_else(|| format!("{s:?} is not FORMAT=URL"))?;
	if !["binance", "coinbase"].contains(&format) {
		return Err(format!("market-source format {format:?} is not binance or coinbase"));
	}
	if !(url.starts_with("http://") || url.starts_with("https://")) {
		return Err(format!("market-source URL {url:?} is not http(s)://"));
	}
	Ok(s.to_string())
}
