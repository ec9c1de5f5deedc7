//! Latency at batch 1 on one libtorch thread: the feature pipeline per window; the price
//! Transformer, the GAF classifier and the sentiment model (32 tokens) end to end (input
//! checks, features, images or tokens, model, fixed-point outputs). Uses the default artifacts (`scripts/train-models.sh`) and the prepared
//! BTC series. Run: `cargo bench -p noderr-ml --bench inference`.

use criterion::{criterion_group, criterion_main, Criterion};
use noderr_ml::{data, engine::Engine, features};
use std::hint::black_box;

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
			}
			_ => {}
		}
	}
}

criterion_group!(benches, bench);
criterion_main!(benches);
