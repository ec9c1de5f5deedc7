//! The WordPiece tokenizer against the Hugging Face `tokenizers` package (run now, on the
//! model's own tokenizer.json) over the whole labelled corpus: every text must give the same ids.

use noderr_ml::{data, models::sentiment};

#[test]
fn token_ids_match_hugging_face_tokenizers() {
	let cache = data::cache_dir();
	let dir = cache.join("minilm");
	let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocab.txt"))
		.expect("run scripts/setup-data.sh")
		.lines()
		.map(String::from)
		.collect();
	let tok = sentiment::Tokenizer::new(&vocab).unwrap();
	let mut texts: Vec<String> = data::read_sentiment(&data::data_dir().join("sentiment.csv"))
		.unwrap()
		.into_iter()
		.map(|t| t.text)
		.collect();
	texts.extend(
		[
			"Ünïcödé café — naïve résumé!",
			"中文字符 mixed with words",
			"tabs\tand\nnewlines",
			"a\u{0}b\u{fffd}c",
		]
		.map(String::from),
	);
	let (tokenizer, max_tokens) = (dir.join("tokenizer.json"), sentiment::MAX_TOKENS.to_string());
	let args = [tokenizer.as_os_str(), std::ffi::OsStr::new(&max_tokens)];
	let reference: Vec<Vec<i64>> = data::run_python_reference("reference_tokens.py", &args, &texts)
		.unwrap()
		.iter()
		.map(|l| l.split(' ').map(|x| x.parse().unwrap()).collect())
		.collect();
	assert_eq!(reference.len(), texts.len());
	let mismatches: Vec<_> = texts
		.iter()
		.zip(&reference)
		.filter(|(t, r)| &tok.encode(t, sentiment::MAX_TOKENS) != *r)
		.map(|(t, r)| {
			format!("{t:?}\n  ours {:?}\n  ref  {r:?}", tok.encode(t, sentiment::MAX_TOKENS))
		})
		.collect();
	println!("{} texts, {} mismatches", texts.len(), mismatches.len());
	assert!(
		mismatches.is_empty(),
		"{}",
		mismatches.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
	);
}
