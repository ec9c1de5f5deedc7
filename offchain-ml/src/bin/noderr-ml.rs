//! `noderr-ml`: train the models, inspect artifacts and features, serve the ML JSON-RPC API.

use clap::{Parser, Subcommand};
#[cfg(feature = "train")]
use noderr_ml::train;
use noderr_ml::{artifact, base, features, registration, runtime, service};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "noderr-ml", version, about = "Noderr's ML module")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Train a model on the data from scripts/setup-data.sh and write its artifact.
	Train {
		/// price-transformer, gaf-regime or msrr (for msrr, epochs x 25 EM iterations at most)
		model: String,
		/// Artifact file to write.
		#[arg(long)]
		out: PathBuf,
		#[arg(long, default_value_t = 8)]
		epochs: usize,
		#[arg(long, default_value_t = 42)]
		seed: u64,
		/// Semantic version recorded in the manifest.
		#[arg(long, default_value = "1.0.0")]
		version: String,
		/// libtorch's kernel choice (see `check`); artifacts to publish are trained pinned.
		#[arg(long, default_value = "pinned", value_parser = runtime::CpuMode::parse)]
		cpu_mode: runtime::CpuMode,
	},
	/// Serve the ML JSON-RPC API over the artifacts in a directory.
	Serve {
		/// Directory of *.nrm artifacts to load.
		#[arg(long)]
		models: PathBuf,
		#[arg(long, default_value = "127.0.0.1:9955")]
		rpc_addr: std::net::SocketAddr,
		/// Allow an `--rpc-addr` that is not loopback (firewall it).
		#[arg(long)]
		external: bool,
		/// A browser origin (`http://host:port`) allowed to call; repeat for several. Requests
		/// with any other `Origin` header are refused.
		#[arg(long, value_name = "ORIGIN")]
		allow_origin: Vec<String>,
		/// Requests computed at once (one libtorch thread each).
		#[arg(long, default_value_t = 2)]
		workers: usize,
		#[arg(long, default_value_t = 100)]
		max_connections: u32,
		/// Expose Prometheus metrics on this port (127.0.0.1).
		#[arg(long)]
		prometheus_port: Option<u16>,
		/// libtorch's kernel choice: pinned (what nodes run), or default, avx2, avx512 for
		/// measuring how far honest answers differ between processors' code paths.
		#[arg(long, default_value = "pinned", value_parser = runtime::CpuMode::parse)]
		cpu_mode: runtime::CpuMode,
		/// TEST ONLY: answer wrongly on purpose, `bias:N` (N fixed-point units added to every
		/// number, the next class reported) or `random-class`, to test that guardians catch a
		/// dishonest operator. An operator running this on a real network is slashed.
		#[arg(long, value_name = "MODE", value_parser = service::Faulty::parse)]
		test_faulty: Option<service::Faulty>,
	},
	/// Run every artifact in a directory on windows of a bar series and print the quantised
	/// outputs, one JSON line per model: nodes (and tests) compare these to check agreement.
	Check {
		#[arg(long)]
		models: PathBuf,
		/// time,open,high,low,close,volume CSV; defaults to the prepared BTC series.
		#[arg(long)]
		bars: Option<PathBuf>,
		/// Number of windows, spread evenly over the series.
		#[arg(long, default_value_t = 16)]
		windows: usize,
		/// libtorch's kernel choice: pinned (what nodes run), default (what libtorch picks for
		/// this processor), avx2 or avx512. For measuring agreement between code paths.
		#[arg(long, default_value = "pinned", value_parser = runtime::CpuMode::parse)]
		cpu_mode: runtime::CpuMode,
	},
	/// Split an artifact built on a published base model (params.base) into its head: the
	/// manifest and the tensors the base lacks. The head is what the repository commits.
	Head {
		/// The full artifact.
		artifact: PathBuf,
		/// The base weights (safetensors) the artifact names.
		#[arg(long)]
		base: PathBuf,
		/// Head file to write.
		#[arg(long)]
		out: PathBuf,
	},
	/// Write the published artifacts of a directory (the repository's offchain-ml/artifacts)
	/// into another: `*.nrm` copied, `*.head` assembled on the base weights.
	Defaults {
		/// Directory of published `*.nrm` artifacts and `*.head` files.
		#[arg(long)]
		from: PathBuf,
		/// Base weights the heads name.
		#[arg(long)]
		base: Option<PathBuf>,
		/// Directory to write the artifacts into.
		#[arg(long)]
		out: PathBuf,
	},
	/// Rebuild the full artifact from its head and the base weights: the same bytes, and so the
	/// same hash, on every machine.
	Assemble {
		/// The head (from `noderr-ml head`).
		head: PathBuf,
		/// The base weights (safetensors) the head names.
		#[arg(long)]
		base: PathBuf,
		/// Artifact file to write.
		#[arg(long)]
		out: PathBuf,
	},
	/// Print an artifact's hash, size and manifest summary.
	Inspect { artifact: PathBuf },
	/// Score every artifact in a directory on the held-out later period its training kept apart,
	/// through the inference engine, against honest baselines (random walks with constant,
	/// exponentially weighted and rolling variance; majority class and persistence; buy-and-hold
	/// and volatility targeting). One JSON report per model.
	Evaluate {
		/// Directory of artifacts (*.nrm).
		#[arg(long)]
		models: PathBuf,
		#[arg(long, default_value = "pinned", value_parser = runtime::CpuMode::parse)]
		cpu_mode: runtime::CpuMode,
	},
	/// Print what to submit to the model registry for an artifact, or for every artifact in a
	/// directory: hash, size and the polkadot.js call (sudo) that registers it.
	Registration {
		/// An artifact (*.nrm) or a directory of them.
		path: PathBuf,
		/// Lowest tier that serves the model: All, Oracle or Guardian (default: price models
		/// All, the others Oracle).
		#[arg(long)]
		min_tier: Option<String>,
		/// Agreement tolerance in fixed-point units (default 1000).
		#[arg(long)]
		tolerance: Option<u64>,
		/// An HTTP(S) URL the artifact can be fetched from (repeatable).
		#[arg(long = "location", value_name = "URL")]
		locations: Vec<String>,
		/// First block at which the version is active.
		#[arg(long, default_value_t = 0)]
		activate_at: u64,
		/// Print the registry pallet's genesis entries (JSON) instead.
		#[arg(long)]
		genesis: bool,
		/// Compare the genesis entries with this JSON file; fail, naming the models, if they
		/// differ.
		#[arg(long, value_name = "FILE", conflicts_with = "genesis")]
		check: Option<PathBuf>,
	},
	/// Print the feature catalogue.
	Features {
		/// As a Markdown table (docs/features.md).
		#[arg(long)]
		markdown: bool,
	},
}

/// Texts the `check` command classifies.
const CHECK_TEXTS: [&str; 4] = [
	"I would never trust a self-driving car with my kids.",
	"Driverless cars will make the roads safer for everyone!",
	"The company announced its quarterly results on Tuesday.",
	"Terrible service, the app crashed twice and support never answered.",
];

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
	std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() {
	if let Err(e) = run(Cli::parse()) {
		eprintln!("Error: {e}");
		std::process::exit(1);
	}
}

fn run(cli: Cli) -> Result<(), String> {
	match cli.command {
		#[cfg(not(feature = "train"))]
		Command::Train { .. } => {
			return Err("this noderr-ml was built without training; build it with its default \
				features (cargo build --release -p noderr-ml)"
				.into())
		}
		#[cfg(feature = "train")]
		Command::Train { model, out, epochs, seed, version, cpu_mode } => {
			if epochs == 0 {
				return Err("--epochs must be at least 1".into());
			}
			runtime::init_with(cpu_mode);
			let opts = train::TrainOptions { epochs, seed, version };
			match model.as_str() {
				"price-transformer" => train::train_price(&out, &opts)?,
				"gaf-regime" => train::train_gaf(&out, &opts)?,
				"msrr" => train::train_msrr(&out, &opts)?,
				"sentiment" => train::train_sentiment(&out, &opts)?,
				other => {
					return Err(format!(
						"unknown model {other:?} (price-transformer, gaf-regime, msrr, sentiment)"
					))
				}
			};
		}
		Command::Serve {
			models,
			rpc_addr,
			external,
			allow_origin,
			workers,
			max_connections,
			prometheus_port,
			cpu_mode,
			test_faulty,
		} => {
			if let Some(warning) = service::check_exposure(rpc_addr, external)? {
				eprintln!("WARNING: {warning}");
			}
			runtime::init_with(cpu_mode);
			let config = service::Config {
				addr: rpc_addr,
				models: Some(models),
				workers,
				max_connections,
				allowed_origins: allow_origin,
				faulty: test_faulty,
			};
			let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
			rt.block_on(async move {
				let registry = prometheus_endpoint::Registry::new();
				let (addr, handle, _models) = service::start(&config, &registry).await?;
				println!("ML service listening on {addr}");
				if let Some(port) = prometheus_port {
					let at = std::net::SocketAddr::from(([127, 0, 0, 1], port));
					tokio::spawn(async move {
						if let Err(e) = prometheus_endpoint::init_prometheus(at, registry).await {
							eprintln!("Error: Prometheus endpoint on {at}: {e}");
						}
					});
					println!("Prometheus metrics on http://{at}/metrics");
				}
				tokio::select! {
					_ = handle.clone().stopped() => {},
					_ = tokio::signal::ctrl_c() => { let _ = handle.stop(); },
				}
				Ok::<(), String>(())
			})?;
		}
		Command::Head { artifact: path, base: base_path, out } => {
			let full = read(&path)?;
			let head = base::head(&full, &read(&base_path)?)
				.map_err(|e| format!("{}: {e}", path.display()))?;
			let hash = artifact::write(&out, &head).map_err(|e| e.to_string())?;
			println!(
				"{}: head of {} bytes (blake2-256 {})",
				out.display(),
				head.len(),
				artifact::hex(&hash)
			);
		}
		Command::Defaults { from, base: base_path, out } => {
			let base_bytes = base_path.as_deref().map(read).transpose()?;
			for (path, hash) in base::install(&from, base_bytes.as_deref(), &out)? {
				println!("{}  {}", artifact::hex(&hash), path.display());
			}
		}
		Command::Assemble { head, base: base_path, out } => {
			let full = base::assemble(&read(&head)?, &read(&base_path)?)
				.map_err(|e| format!("{}: {e}", head.display()))?;
			let hash = artifact::write(&out, &full).map_err(|e| e.to_string())?;
			println!(
				"{}: {} bytes, blake2-256 {}",
				out.display(),
				full.len(),
				artifact::hex(&hash)
			);
		}
		Command::Check { models, bars, windows, cpu_mode } => {
			runtime::init_with(cpu_mode);
			let path = bars.unwrap_or_else(|| noderr_ml::data::data_dir().join("btc_1h.csv"));
			let bars: Vec<_> =
				noderr_ml::data::read_bars(&path)?.into_iter().map(|b| b.bar).collect();
			let mut engine = noderr_ml::engine::Engine::new();
			let loaded = engine.load_dir(&models).map_err(|e| e.to_string())?;
			let mut infos = Vec::new();
			for r in loaded {
				infos.push(r.map_err(|e| e.to_string())?);
			}
			if infos.is_empty() {
				return Err(format!("no artifacts in {}", models.display()));
			}
			let needed = features::bars_needed(60).max(64).max(noderr_ml::models::msrr::WINDOW);
			if bars.len() < needed + windows {
				return Err(format!("{}: too few bars", path.display()));
			}
			let ends: Vec<usize> =
				(0..windows).map(|i| needed + i * (bars.len() - needed) / windows.max(1)).collect();
			for info in infos {
				let outputs: Vec<serde_json::Value> = ends
					.iter()
					.map(|&end| {
						let window = &bars[end - needed..end];
						match info.name.as_str() {
							"price-transformer" => engine
								.predict_batch(&info.hash, &[window.to_vec()])
								.map(|mut v| serde_json::to_value(v.remove(0)).expect("json")),
							"gaf-regime" => engine
								.classify_regime(&info.hash, window)
								.map(|c| serde_json::to_value(c).expect("json")),
							"msrr" => engine
								.msrr(&info.hash, window)
								.map(|m| serde_json::to_value(m).expect("json")),
							"sentiment" => engine
								.sentiment(&info.hash, CHECK_TEXTS[end % CHECK_TEXTS.len()])
								.map(|c| serde_json::to_value(c).expect("json")),
							_ => Ok(serde_json::Value::Null),
						}
						.map_err(|e| e.to_string())
					})
					.collect::<Result<_, _>>()?;
				println!(
					"{}",
					serde_json::json!({"model": info.name, "hash": info.hash, "outputs": outputs})
				);
			}
		}
		Command::Evaluate { models, cpu_mode } => {
			runtime::init_with(cpu_mode);
			let mut engine = noderr_ml::engine::Engine::new();
			let loaded = engine.load_dir(&models).map_err(|e| e.to_string())?;
			if loaded.is_empty() {
				return Err(format!("no artifacts in {}", models.display()));
			}
			for r in loaded {
				r.map_err(|e| e.to_string())?;
			}
			for report in noderr_ml::evaluate::all(&engine)? {
				println!("{report}");
			}
		}
		Command::Inspect { artifact: path } => {
			let a = artifact::read(&path, None).map_err(|e| format!("{}: {e}", path.display()))?;
			println!("hash     {}", artifact::hex(&a.hash));
			println!("size     {}", a.size);
			println!("model    {} {}", a.manifest.name, a.manifest.version);
			println!("task     {}", serde_json::to_string(&a.manifest.task).unwrap_or_default());
			println!(
				"input    {:?} (feature version {})",
				a.manifest.input_shape, a.manifest.feature_version
			);
			println!("scale    {}", a.manifest.output_scale);
			println!("metrics  {}", serde_json::to_string(&a.manifest.metrics).unwrap_or_default());
		}
		Command::Registration {
			path,
			min_tier,
			tolerance,
			locations,
			activate_at,
			genesis,
			check,
		} => {
			let files = if path.is_dir() {
				noderr_ml::engine::artifact_files(&path)
					.map_err(|e| format!("{}: {e}", path.display()))?
			} else {
				vec![path.clone()]
			};
			if files.is_empty() {
				return Err(format!("no *.nrm artifact in {}", path.display()));
			}
			let mut entries = Vec::new();
			for file in &files {
				let a =
					artifact::read(file, None).map_err(|e| format!("{}: {e}", file.display()))?;
				let mut policy = registration::default_policy(&a.manifest.name);
				if let Some(t) = &min_tier {
					policy.min_tier = t.clone();
				}
				if let Some(t) = tolerance {
					policy.tolerance = t;
				}
				policy.locations = locations.clone();
				policy.activate_at = activate_at;
				if genesis || check.is_some() {
					entries.push(registration::genesis_entry(&a, &policy)?);
				} else {
					println!("{} {}  ({})", a.manifest.name, a.manifest.version, file.display());
					println!("  hash  {}", artifact::hex(&a.hash));
					println!("  size  {} bytes", a.size);
					println!("  call  {}", registration::polkadot_js_call(&a, &policy)?);
				}
			}
			let entries = serde_json::Value::Array(entries);
			if genesis {
				// One model per line: readable diffs when a model is retrained.
				let lines: Vec<String> =
					entries.as_array().into_iter().flatten().map(|e| format!("  {e}")).collect();
				println!("[\n{}\n]", lines.join(",\n"));
			}
			if let Some(file) = check {
				let text = std::fs::read_to_string(&file)
					.map_err(|e| format!("{}: {e}", file.display()))?;
				let expected: serde_json::Value =
					serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
				if expected != entries {
					return Err(format!(
						"the artifacts in {} are not the ones {} registers; after retraining, \
						 regenerate it with `noderr-ml registration --genesis {} > {}` and \
						 rebuild the runtime",
						path.display(),
						file.display(),
						path.display(),
						file.display()
					));
				}
				println!("{}: the {} artifacts match", file.display(), files.len());
			}
		}
		Command::Features { markdown } => {
			if markdown {
				println!("# Feature pipeline v{}\n", features::FEATURE_VERSION);
				println!(
					"{} features per bar; a model window of N rows is computed over the last N + {} bars.\n",
					features::FEATURE_COUNT,
					features::WARMUP
				);
				println!("| # | name | group | window | formula |\n|---|---|---|---|---|");
			}
			for (i, f) in features::FEATURES.iter().enumerate() {
				let group = serde_json::to_string(&f.group).unwrap_or_default().replace('"', "");
				if markdown {
					println!(
						"| {i} | `{}` | {group} | {} | {} |",
						f.name,
						f.window,
						f.formula.replace('|', "\\|")
					);
				} else {
					println!("{i:>2} {:<18} {group:<10} {:>3}  {}", f.name, f.window, f.formula);
				}
			}
		}
	}
	Ok(())
}
