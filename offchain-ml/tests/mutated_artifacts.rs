//! Registered artifacts are trusted by hash only: one with the right hash but wrong contents
//! must be refused with an error, never crash the node. This loads hundreds of mutants of the
//! four real artifacts (tensors dropped, reshaped or added; configurations, statistics,
//! vocabularies, labels and scales changed; random numeric fields set to edge values) and runs
//! one inference of every method on each mutant that loads, in a child process with the node's
//! panic handler installed (which exits the process on any panic). The child must exit with 0.

use noderr_ml::{
	artifact::{self, Manifest, Task, Weights},
	engine::Engine,
	features::Bar,
};
use serde_json::{json, Value};

const CHILD: &str = "NODERR_MUTANT_CHILD";

#[test]
fn mutated_artifacts_never_crash_a_node() {
	if std::env::var_os(CHILD).is_some() {
		return child();
	}
	let out = std::process::Command::new(std::env::current_exe().unwrap())
		.args([
			"--exact",
			"mutated_artifacts_never_crash_a_node",
			"--nocapture",
			"--test-threads=1",
		])
		.env(CHILD, "1")
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&out.stdout);
	let stderr = String::from_utf8_lossy(&out.stderr);
	// libtest prints the test's name on the line the child's report starts on.
	for line in stdout.lines().filter_map(|l| l.find("mutants:").map(|i| &l[i..])) {
		println!("{line}");
	}
	let tail = |s: &str| s.chars().take(3000).collect::<String>();
	assert_eq!(
		out.status.code(),
		Some(0),
		"the child crashed:\n{}\n{}",
		tail(&stdout),
		tail(&stderr)
	);
	assert!(stdout.contains("mutants"), "the child ran: {stdout}");
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
	}
	fn below(&mut self, n: usize) -> usize {
		(self.next() % n.max(1) as u64) as usize
	}
}

type Mutant = (String, Manifest, Weights);

fn resized(values: &[f32], len: usize) -> Vec<f32> {
	(0..len).map(|i| values.get(i % values.len().max(1)).copied().unwrap_or(0.5)).collect()
}

fn mutants(manifest: &Manifest, weights: &Weights, rng: &mut Rng) -> Vec<Mutant> {
	let mut out: Vec<Mutant> = Vec::new();
	let mut push = |what: String, f: &dyn Fn(&mut Manifest, &mut Weights)| {
		let (mut m, mut w) = (manifest.clone(), weights.clone());
		f(&mut m, &mut w);
		m.tensors = w.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect();
		out.push((what, m, w));
	};
	// Tensors: dropped, reshaped, added.
	for _ in 0..weights.len().min(6) {
		let i = rng.below(weights.len());
		push(format!("drop {}", weights[i].0), &|_, w| {
			w.remove(i);
		});
		let how = rng.below(4);
		push(format!("reshape {} ({how})", weights[i].0), &|_, w| {
			let (_, shape, values) = &mut w[i];
			match how {
				0 => shape.reverse(),
				1 => shape[0] += 1,
				2 => shape[0] = shape[0].saturating_sub(1).max(1),
				_ => shape.push(1),
			}
			*values = resized(values, shape.iter().product());
		});
	}
	push("extra tensor".into(), &|_, w| w.push(("extra.weight".into(), vec![2], vec![1.0, 2.0])));
	// Scales, versions, shapes, names, tasks.
	for scale in [0, -1, i64::MAX] {
		push(format!("output scale {scale}"), &|m, _| m.output_scale = scale);
	}
	push("feature version".into(), &|m, _| m.feature_version += 1);
	push("input shape".into(), &|m, _| m.input_shape = vec![7, 3]);
	for name in ["price-transformer", "gaf-regime", "msrr", "sentiment", "unknown"] {
		push(format!("named {name}"), &|m, _| m.name = name.into());
	}
	push("labels reordered".into(), &|m, _| {
		if let Task::Classification { labels } | Task::TextClassification { labels, .. } =
			&mut m.task
		{
			labels.reverse();
		}
	});
	push("one more label".into(), &|m, _| {
		if let Task::Classification { labels } | Task::TextClassification { labels, .. } =
			&mut m.task
		{
			labels.push("extra".into());
		}
	});
	push("regression task".into(), &|m, _| m.task = Task::Regression { outputs: vec!["x".into()] });
	for max_bytes in [0, 1, usize::MAX] {
		push(format!("max_bytes {max_bytes}"), &|m, _| {
			if let Task::TextClassification { max_bytes: b, .. } = &mut m.task {
				*b = max_bytes;
			}
		});
	}
	// Price configuration.
	for (key, value) in [
		("d_model", json!(33)),
		("d_model", json!(1_000_000_000)),
		("heads", json!(0)),
		("heads", json!(5)),
		("layers", json!(0)),
		("layers", json!(100_000)),
		("window", json!(0)),
		("window", json!(61)),
		("ff", json!(1_000_000_000_000i64)),
		("features", json!(93)),
		("features", json!(-1)),
	] {
		push(format!("config {key} = {value}"), &|m, _| {
			if let Some(Value::Object(c)) = m.params.get_mut("config") {
				c.insert(key.into(), value.clone());
			}
		});
	}
	// Statistics.
	for (key, how) in [("mean", 0), ("std", 1), ("std", 2), ("params", 3), ("params", 4)] {
		push(format!("stats {key} ({how})"), &|m, _| {
			if let Some(v) = m.stats.get_mut(key) {
				match how {
					0 => {
						v.pop();
					}
					1 => v.iter_mut().for_each(|x| *x = 0.0),
					2 => v[0] = -1.0,
					3 => v[4] = 2.0,
					_ => v.truncate(3),
				}
			}
		});
	}
	// Vocabulary.
	for how in 0..4 {
		push(format!("vocabulary ({how})"), &|m, _| {
			if let Some(Value::Array(v)) = m.params.get_mut("vocab") {
				match how {
					0 => v.truncate(v.len().saturating_sub(1000)),
					1 => v.clear(),
					2 => v.retain(|t| t != "[UNK]"),
					_ => v.push(json!("extra-token")),
				}
			}
		});
	}
	// Random numeric fields of the parameters and statistics set to edge values.
	for k in 0..20 {
		let edges = [0.0, -1.0, 1.0, 2.0, 1e9, -1e18, 0.5];
		let (pick, edge) = (rng.next(), edges[rng.below(edges.len())]);
		push(format!("random field {k} = {edge}"), &|m, _| {
			let mut fields: Vec<&mut f64> =
				m.stats.values_mut().flat_map(|v| v.iter_mut()).collect();
			if !fields.is_empty() {
				let i = (pick % fields.len() as u64) as usize;
				*fields[i] = edge;
			}
			if let Some(Value::Object(c)) = m.params.get_mut("config") {
				let keys: Vec<String> = c.keys().cloned().collect();
				if !keys.is_empty() {
					let key = &keys[(pick % keys.len() as u64) as usize];
					c.insert(key.clone(), json!(edge as i64));
				}
			}
		});
	}
	out
}

fn child() {
	// The node's own panic handler: any panic from here on exits the process with an error.
	sp_panic_handler::set("https://github.com/noderr/noderr/issues", "mutant-test");
	noderr_ml::runtime::init();
	let dir = noderr_ml::data::artifacts_dir();
	let csv = noderr_ml::data::data_dir().join("btc_1h.csv");
	let all = noderr_ml::data::read_bars(&csv).expect("run scripts/default-artifacts.sh");
	let bars: Vec<Bar> = all[all.len() - 350..].iter().map(|b| b.bar).collect();
	let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
	let (mut total, mut undecodable, mut refused, mut loaded) = (0, 0, 0, 0);
	for name in ["price-transformer", "gaf-regime", "msrr", "sentiment"] {
		let bytes = std::fs::read(dir.join(format!("{name}.nrm")))
			.expect("run scripts/default-artifacts.sh");
		let original = artifact::decode(&bytes).unwrap();
		// The control: the real artifact loads and answers its own method.
		let mut engine = Engine::new();
		let hash = artifact::hex(&original.hash);
		engine.insert(original.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
		let answered = match name {
			"price-transformer" => engine.predict_batch(&hash, std::slice::from_ref(&bars)).is_ok(),
			"gaf-regime" => engine.classify_regime(&hash, &bars).is_ok(),
			"msrr" => engine.msrr(&hash, &bars).is_ok(),
			_ => engine.sentiment(&hash, "markets rally on strong earnings").is_ok(),
		};
		assert!(answered, "the real {name} answers");
		for (what, manifest, weights) in mutants(&original.manifest, &original.weights, &mut rng) {
			total += 1;
			let Ok(bytes) = artifact::encode(&manifest, &weights) else {
				undecodable += 1;
				continue;
			};
			let Ok(mutant) = artifact::decode(&bytes) else {
				undecodable += 1;
				continue;
			};
			let hash = artifact::hex(&mutant.hash);
			let mut engine = Engine::new();
			match engine.insert(mutant) {
				Err(e) => {
					refused += 1;
					assert!(!e.to_string().is_empty(), "{name} {what}: an empty error");
				}
				Ok(_) => {
					loaded += 1;
					// One inference of every method: each answers or errs, none panics.
					let _ = engine.predict_batch(&hash, std::slice::from_ref(&bars));
					let _ = engine.classify_regime(&hash, &bars);
					let _ = engine.msrr(&hash, &bars);
					let _ = engine.sentiment(&hash, "markets rally on strong earnings");
				}
			}
		}
	}
	println!(
		"mutants: {total} of 4 real artifacts; {undecodable} refused at decode, {refused} \
		 refused at load, {loaded} loaded and ran every method; no panic"
	);
}
