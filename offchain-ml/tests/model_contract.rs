//! The model contract on the published artifacts: what each loaded model says it reads is what
//! the chain's registry declares for it (the same `noderr-primitives` type), and the uniform
//! `run` answers as many values as the registered kind.

use noderr_ml::{
	artifact,
	engine::{Engine, Input},
	features::Bar,
	registration,
};
use noderr_primitives::{InputSpec, TaskKind};

#[test]
fn every_model_reads_what_the_registry_declares_and_answers_its_kind() {
	let bars: Vec<Bar> =
		noderr_ml::data::read_bars(&noderr_ml::data::data_dir().join("btc_1h.csv"))
			.unwrap()
			.into_iter()
			.map(|b| b.bar)
			.collect();
	let files = noderr_ml::engine::artifact_files(&noderr_ml::data::artifacts_dir()).unwrap();
	assert!(files.len() >= 4, "run scripts/default-artifacts.sh");
	let mut engine = Engine::new();
	for file in files {
		let a = artifact::read(&file, None).unwrap();
		let (name, _, fields) =
			registration::registration(&a, &registration::default_policy(&a.manifest.name))
				.unwrap();
		let declared: InputSpec = serde_json::from_value(fields["spec"]["input"].clone()).unwrap();
		let kind: TaskKind = serde_json::from_value(fields["spec"]["kind"].clone()).unwrap();
		let info = engine.insert(a).unwrap();
		assert_eq!(engine.input_spec(&info.hash).unwrap(), declared, "{name}");
		let (input, wrong) = match declared {
			InputSpec::Text { .. } => (Input::Text("markets rally"), Input::Bars(&bars[..10])),
			_ => (Input::Bars(&bars), Input::Text("markets rally")),
		};
		let values = engine.run(&info.hash, input).unwrap();
		let expected = match kind {
			TaskKind::Regression { outputs } => outputs as usize,
			_ => 1,
		};
		assert_eq!(values.len(), expected, "{name}: {values:?}");
		let err = engine.run(&info.hash, wrong).unwrap_err().to_string();
		assert!(err.contains("reads"), "{name}: {err}");
	}
}

/// The published sentiment model runs its encoder in int8; its training recorded held-out
/// quality within one point of macro-F1 of the same head fitted on the f32 encoder, and both
/// above VADER on the same texts.
#[test]
fn the_int8_sentiment_model_keeps_the_f32_quality() {
	let a = artifact::read(&noderr_ml::data::artifacts_dir().join("sentiment.nrm"), None)
		.expect("run scripts/default-artifacts.sh");
	assert_eq!(a.manifest.params["precision"], "int8");
	let metric = |key: &str| a.manifest.metrics[key].as_f64().unwrap();
	let (int8, f32, vader) =
		(metric("macro_f1"), metric("macro_f1_f32_encoder"), metric("macro_f1_vader"));
	println!("sentiment held-out macro-F1: int8 {int8:.4}, f32 encoder {f32:.4}, VADER {vader:.4}");
	assert!(f32 - int8 <= 0.01, "int8 {int8} loses more than a point against f32 {f32}");
	assert!(int8 > vader, "int8 {int8} does not beat VADER {vader}");
}
