//! Latency at batch 1 on one libtorch thread: the feature pipeline per window; the price
//! Transformer, the GAF classifier and the sentiment model (32 tokens) end to end (input
//! checks, features, images or tokens, model, fixed-point outputs), and the sentiment model's
//! encoder in f32 and int8 on the same weights. Uses the default artifacts (`scripts/train-models.sh`) and the prepared
//! BTC series. Run: `cargo bench -p noderr-ml --bench inference`.

use criterion::{criterion_group, criterion_main, Criterion};
use noderr_ml::{
	data,
	engine::Engine,
	features,
	models::sentiment::{Precision, SentimentModel},
};
use std::hint::black_box;
use tch::Tensor;

/// 32 tokens with [CLS] and [SEP] (checked below).
pub const SENTIMENT_TEXT: &str = "The new driverless car service launched in our city this week, and honestly the rides have been smooth, quick and surprisingly cheap so far!!!";

fn bench(c: &mut Criterion) {
	let vocab: Vec<String> = std::fs::read_to_string(data::cache_dir().join("minilm/vocab.txt"))
		.expect("run scripts/setup-data.sh")
		.lines()
		.map(String::from)
		.collect();
	let tok = noderr_ml::models::sentiment::Tokenizer::new(&vocab).unwrap();
	assert_eq!(tok.encode(SENTIMENT_TEXT, 128).len(), 32);
	let bars: Vec<_> = data::read_bars(&data::data_dir().join("btc_1h.csv"))
		.expect("run scripts/setup-data.sh")
		.into_iter()
		.map(|b| b.bar)
		.collect();
	let window = &bars[bars.len() - features::bars_needed(60)..];
	c.bench_function("features_window", |b| {
		b.iter(|| features::window_features(black_box(window), 60).unwrap())
	});

	let dir = data::artifacts_dir();
	let mut engine = Engine::new();
	let infos: Vec<_> =
		engine.load_dir(&dir).expect("artifacts").into_iter().map(|r| r.unwrap()).collect();
	assert_eq!(noderr_ml::runtime::intra_op_threads(), 1);
	for info in infos {
		match info.name.as_str() {
			"price-transformer" => {
				let series = vec![window.to_vec()];
				c.bench_function("price_end_to_end", |b| {
					b.iter(|| engine.predict_batch(&info.hash, black_box(&series)).unwrap())
				});
			}
			"gaf-regime" => {
				let last = &bars[bars.len() - 64..];
				c.bench_function("gaf_end_to_end", |b| {
					b.iter(|| engine.classify_regime(&info.hash, black_box(last)).unwrap())
				});
			}
			"sentiment" => {
				c.bench_function("sentiment_32_tokens", |b| {
					b.iter(|| engine.sentiment(&info.hash, black_box(SENTIMENT_TEXT)).unwrap())
				});
				// The same weights with the encoder in f32 and in int8, tokens to class
				// probabilities: what the published precision saves.
				let artifact =
					noderr_ml::artifact::read(&dir.join("sentiment.nrm"), None).expect("artifact");
				for precision in [Precision::F32, Precision::Int8] {
					let model = SentimentModel::new(
						artifact
							.weights
							.iter()
							.map(|(name, shape, values)| {
								let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
								(name.clone(), Tensor::from_slice(values).view(dims.as_slice()))
							})
							.collect(),
					)
					.with_precision(precision)
					.unwrap();
					let name = format!("sentiment_{}_32_tokens", precision.name());
					c.bench_function(&name, |b| {
						b.iter(|| {
							let _mode = noderr_ml::runtime::InferenceMode::enter();
							let ids = tok.encode(black_box(SENTIMENT_TEXT), 128);
							let (x, mask) = SentimentModel::batch(&[ids]);
							let e = model.embed(&x, &mask).unwrap();
							model.classify(&e).unwrap().softmax(1, tch::Kind::Float)
						})
					});
				}
			}
			_ => {}
		}
	}
}

criterion_group!(benches, bench);
criterion_main!(benches);
