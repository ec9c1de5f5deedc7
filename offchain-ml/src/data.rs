//! Reading the training and evaluation data that `scripts/setup-data.sh` prepares.

use crate::features::Bar;
use std::path::{Path, PathBuf};

/// Where the prepared data lives: `$NODERR_DATA`, else `$NODERR_CACHE/data`, else
/// `~/.cache/noderr/data`.
pub fn data_dir() -> PathBuf {
	if let Some(dir) = std::env::var_os("NODERR_DATA") {
		return dir.into();
	}
	cache_dir().join("data")
}

/// The project's cache directory (`$NODERR_CACHE`, else `~/.cache/noderr`).
pub fn cache_dir() -> PathBuf {
	if let Some(dir) = std::env::var_os("NODERR_CACHE") {
		return dir.into();
	}
	let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
	PathBuf::from(home).join(".cache/noderr")
}

/// Where the model artifacts live: `$NODERR_ARTIFACTS`, else `artifacts` in the cache
/// directory (`scripts/train-models.sh` writes them there).
pub fn artifacts_dir() -> PathBuf {
	std::env::var_os("NODERR_ARTIFACTS")
		.map(Into::into)
		.unwrap_or_else(|| cache_dir().join("artifacts"))
}

/// A bar with its time stamp (ISO 8601, UTC).
#[derive(Clone, Debug)]
pub struct TimedBar {
	pub time: String,
	pub bar: Bar,
}

/// Reads a `time,open,high,low,close,volume` CSV, oldest bar first.
pub fn read_bars(path: &Path) -> Result<Vec<TimedBar>, String> {
	let text = std::fs::read_to_string(path).map_err(|e| {
		format!("cannot read {}: {e} (scripts/setup-data.sh prepares it)", path.display())
	})?;
	let mut lines = text.lines();
	match lines.next() {
		Some("time,open,high,low,close,volume") => {}
		other => return Err(format!("{}: unexpected header {other:?}", path.display())),
	}
	lines
		.enumerate()
		.map(|(i, line)| {
			let fields: Vec<&str> = line.split(',').collect();
			let number = |k: usize| -> Result<f64, String> {
				fields
					.get(k)
					.ok_or_else(|| format!("{}:{}: missing column {k}", path.display(), i + 2))?
					.parse::<f64>()
					.map_err(|e| format!("{}:{}: column {k}: {e}", path.display(), i + 2))
			};
			Ok(TimedBar {
				time: fields[0].to_string(),
				bar: Bar {
					open: number(1)?,
					high: number(2)?,
					low: number(3)?,
					close: number(4)?,
					volume: number(5)?,
				},
			})
		})
		.collect()
}

/// A labelled text.
#[derive(Clone, Debug)]
pub struct LabelledText {
	/// 0 negative, 1 neutral, 2 positive.
	pub label: usize,
	pub text: String,
}

/// Reads the `sentiment,confidence,text` corpus. Bytes that are not UTF-8 are replaced.
pub fn read_sentiment(path: &Path) -> Result<Vec<LabelledText>, String> {
	let bytes = std::fs::read(path).map_err(|e| {
		format!("cannot read {}: {e} (scripts/setup-data.sh prepares it)", path.display())
	})?;
	let text = String::from_utf8_lossy(&bytes);
	let mut out = Vec::new();
	for record in parse_csv(&text).into_iter().skip(1) {
		if record.len() < 3 {
			continue;
		}
		let label = match record[0].as_str() {
			"negative" => 0,
			"neutral" => 1,
			"positive" => 2,
			_ => continue,
		};
		let text = record[2..].join(",").trim().to_string();
		if !text.is_empty() {
			out.push(LabelledText { label, text });
		}
	}
	Ok(out)
}

/// The human-rated texts of the VADER study (Hutto and Gilbert, ICWSM 2014, shipped in the
/// vaderSentiment 3.3.2 sdist, MIT): each text's mean rating by about ten people on a -4 .. 4
/// scale, in four domains. Name, file under `data/hutto/`, description.
pub const HUTTO_DOMAINS: [(&str, &str, &str); 4] = [
	("tweets", "tweets_GroundTruth.txt", "tweets"),
	("movie", "movieReviewSnippets_GroundTruth.txt", "movie review snippets"),
	("amazon", "amazonReviewSnippets_GroundTruth.txt", "product review snippets"),
	("nyt", "nytEditorialSnippets_GroundTruth.txt", "New York Times editorial snippets"),
];

/// A mean rating within this distance of zero is neutral; at or beyond it, negative or
/// positive (half a step of the raters' nine-point scale).
pub const HUTTO_NEUTRAL_BAND: f64 = 0.5;

/// The class of a mean human rating (see [`HUTTO_NEUTRAL_BAND`]).
pub fn hutto_label(rating: f64) -> usize {
	if rating <= -HUTTO_NEUTRAL_BAND {
		0
	} else if rating >= HUTTO_NEUTRAL_BAND {
		2
	} else {
		1
	}
}

/// Reads one domain of the human-rated texts (`id<TAB>mean rating<TAB>text` per line); bytes
/// that are not UTF-8 are replaced, texts kept as rated (HTML entities included).
pub fn read_hutto(file: &str) -> Result<Vec<LabelledText>, String> {
	let path = data_dir().join("hutto").join(file);
	let bytes = std::fs::read(&path).map_err(|e| {
		format!("cannot read {}: {e} (scripts/setup-data.sh prepares it)", path.display())
	})?;
	let mut out = Vec::new();
	for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
		let line = line.trim_end_matches('\r');
		if line.trim().is_empty() {
			continue;
		}
		let mut fields = line.splitn(3, '\t');
		let (_, rating, text) = (fields.next(), fields.next(), fields.next());
		let rating: f64 = rating
			.and_then(|r| r.trim().parse().ok())
			.filter(|r: &f64| r.is_finite())
			.ok_or_else(|| format!("{}:{}: no numeric rating", path.display(), n + 1))?;
		let text = text.unwrap_or("").trim();
		if !text.is_empty() {
			out.push(LabelledText { label: hutto_label(rating), text: text.to_string() });
		}
	}
	if out.is_empty() {
		return Err(format!("{}: no rated texts", path.display()));
	}
	Ok(out)
}

/// The VADER lexicon as vaderSentiment matches it, from `vader_lexicon.txt`: the words already
/// in lower case (it looks words up in lower case, so an entry with capitals, such as ":D",
/// never matches; nor does one with a space, as words are split at spaces; a word listed twice
/// keeps its last valence), and from `emoji_utf8_lexicon.txt` the descriptions of single-character emoji
/// (it replaces emoji one character at a time). Both come from the vaderSentiment 3.3.2 sdist.
#[allow(clippy::type_complexity)]
pub fn read_vader_lexicon() -> Result<(Vec<(String, f64)>, Vec<(String, String)>), String> {
	let read = |name: &str| {
		let path = data_dir().join(name);
		std::fs::read_to_string(&path).map_err(|e| {
			format!("cannot read {}: {e} (scripts/setup-data.sh extracts it)", path.display())
		})
	};
	// A word listed twice keeps its last valence, as in the reference's dictionary.
	let mut words = std::collections::BTreeMap::new();
	for (w, valence) in crate::pipeline::lexicon::Lexicon::parse(&read("vader_lexicon.txt")?)? {
		if w == w.to_lowercase() && !w.chars().any(char::is_whitespace) {
			words.insert(w, valence);
		}
	}
	let words = words.into_iter().collect();
	let mut emoji = Vec::new();
	for (n, line) in read("emoji_utf8_lexicon.txt")?.lines().enumerate() {
		let mut fields = line.trim().split('\t');
		let (Some(e), Some(description)) = (fields.next(), fields.next()) else {
			return Err(format!("emoji_utf8_lexicon.txt line {}: no description", n + 1));
		};
		if e.chars().count() == 1 {
			emoji.push((e.to_string(), description.to_string()));
		}
	}
	Ok((words, emoji))
}

/// Runs a reference script of `offchain-ml/python` in the reference Python environment that
/// `scripts/setup-data.sh` prepares, with `input` as JSON on its standard input and `args` after
/// the script's path, and returns the lines it prints. Standard input is written from a thread,
/// so a reference may answer while its input is still going in, whatever the pipe's size.
pub fn run_python_reference<T: serde::Serialize + ?Sized>(
	script: &str,
	args: &[&std::ffi::OsStr],
	input: &T,
) -> Result<Vec<String>, String> {
	use std::{
		io::Write,
		process::{Command, Stdio},
	};
	let python = cache_dir().join("pyenv/bin/python");
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join(script);
	let mut child = Command::new(&python)
		.arg(&path)
		.args(args)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.map_err(|e| format!("{}: {e} (scripts/setup-data.sh installs it)", python.display()))?;
	let input = serde_json::to_vec(input).map_err(|e| format!("{script} input: {e}"))?;
	let mut stdin = child.stdin.take().expect("stdin is piped");
	let writer = std::thread::spawn(move || stdin.write_all(&input));
	let output = child.wait_with_output().map_err(|e| format!("{script}: {e}"))?;
	let written = writer.join().map_err(|_| format!("{script}: the input thread panicked"))?;
	if !output.status.success() {
		return Err(format!(
			"{script} failed ({}): {}",
			output.status,
			String::from_utf8_lossy(&output.stderr).trim()
		));
	}
	written.map_err(|e| format!("{script} input: {e}"))?;
	let stdout = String::from_utf8(output.stdout).map_err(|e| format!("{script} output: {e}"))?;
	Ok(stdout.lines().map(String::from).collect())
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, newlines inside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
	let mut records = Vec::new();
	let mut record = Vec::new();
	let mut field = String::new();
	let mut quoted = false;
	let mut chars = text.chars().peekable();
	while let Some(ch) = chars.next() {
		if quoted {
			match ch {
				'"' if chars.peek() == Some(&'"') => {
					field.push('"');
					chars.next();
				}
				'"' => quoted = false,
				_ => field.push(ch),
			}
			continue;
		}
		match ch {
			'"' => quoted = true,
			',' => record.push(std::mem::take(&mut field)),
			'\r' => {}
			'\n' => {
				record.push(std::mem::take(&mut field));
				records.push(std::mem::take(&mut record));
			}
			_ => field.push(ch),
		}
	}
	if !field.is_empty() || !record.is_empty() {
		record.push(field);
		records.push(record);
	}
	records
}

#[cfg(test)]
mod tests {
	#[test]
	fn human_ratings_become_classes_at_half_a_step() {
		use super::hutto_label;
		assert_eq!(
			[-2.0, -0.5, -0.49, 0.0, 0.49, 0.5, 3.1].map(hutto_label),
			[0, 0, 1, 1, 1, 2, 2]
		);
	}

	#[test]
	fn csv_quotes_and_newlines() {
		let r = super::parse_csv("a,b\n\"x, \"\"y\"\"\",\"two\nlines\"\n");
		assert_eq!(r, vec![vec!["a", "b"], vec!["x, \"y\"", "two\nlines"]]);
	}
}
