//! Lexicon features of a text for the sentiment model's head, beside the encoder's embedding:
//! the valence people gave each word (the VADER lexicon, shipped in the artifact's manifest),
//! in the numbers the head reads. Two rule sets, named by the manifest's `lexicon_rules`:
//! - `negation` (the default, for artifacts that name none): valences summed with negation, in
//!   three numbers;
//! - `intensity`: those three, then VADER's full rules ([`super::intensity`]: degree words,
//!   capitals, "but", punctuation emphasis, idioms, emoji descriptions), as its compound score
//!   and its positive, negative and neutral shares: seven numbers.
//!
//! The embedding knows how words combine; the lexicon knows the strength of rare and domain
//! words the encoder's training did not weigh. Computed in f64 from sums in text order and
//! correctly rounded square roots, so every processor gives the same bits.

use std::collections::HashMap;

use super::intensity;

/// Numbers the head reads per text under the `negation` rules: the normalised valence sum and
/// the shares of positive and negative valence.
pub const FEATURES: usize = 3;
/// Numbers under the `intensity` rules: the three above, then VADER's compound score and its
/// positive, negative and neutral shares.
pub const INTENSITY_FEATURES: usize = 7;
/// Largest lexicon an artifact may carry, and its longest word in bytes.
pub const MAX_ENTRIES: usize = 20_000;
pub const MAX_WORD_BYTES: usize = 64;
/// Largest emoji table, and its longest description in bytes.
pub const MAX_EMOJI: usize = 4_000;
pub const MAX_DESCRIPTION_BYTES: usize = 128;
/// Valences are on the raters' -4 .. 4 scale.
pub const MAX_VALENCE: f64 = 4.0;
/// A word within this many words after a negation has its valence scaled by [`NEGATION`].
pub const NEGATION_REACH: usize = 3;
pub const NEGATION: f64 = -0.74;
/// The sum s becomes s / sqrt(s^2 + ALPHA), within -1 .. 1.
pub const ALPHA: f64 = 15.0;

/// Which features a lexicon gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
	Negation,
	Intensity,
}

impl Rules {
	/// The rules a manifest's `lexicon_rules` names; none named is `negation`.
	pub fn from_param(v: Option<&serde_json::Value>) -> Result<Self, String> {
		match v.map(|v| v.as_str()) {
			None => Ok(Self::Negation),
			Some(Some("negation")) => Ok(Self::Negation),
			Some(Some("intensity")) => Ok(Self::Intensity),
			_ => Err(format!(
				"lexicon_rules {} is not \"negation\" or \"intensity\"",
				v.expect("some")
			)),
		}
	}

	pub fn name(self) -> &'static str {
		match self {
			Self::Negation => "negation",
			Self::Intensity => "intensity",
		}
	}

	/// How many numbers the head reads under these rules.
	pub fn features(self) -> usize {
		match self {
			Self::Negation => FEATURES,
			Self::Intensity => INTENSITY_FEATURES,
		}
	}
}

/// Words that negate what follows (compared in lower case, punctuation stripped).
const NEGATIONS: [&str; 20] = [
	"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot",
	"without", "isnt", "isn't", "dont", "don't", "doesnt", "doesn't", "wasnt", "wasn't", "aint",
];

/// Word valences, looked up by lower-case word, with the rules that turn them into features.
pub struct Lexicon {
	words: HashMap<String, f64>,
	emoji: HashMap<char, String>,
	rules: Rules,
}

impl Lexicon {
	/// Builds a lexicon under the `negation` rules, refusing empty, duplicate, over-long or
	/// out-of-range entries.
	pub fn new(entries: &[(String, f64)]) -> Result<Self, String> {
		Self::with_rules(entries, &[], Rules::Negation)
	}

	/// Builds a lexicon under the given rules, with the emoji descriptions the `intensity`
	/// rules read (single characters; a `negation` lexicon takes none).
	pub fn with_rules(
		entries: &[(String, f64)],
		emoji: &[(String, String)],
		rules: Rules,
	) -> Result<Self, String> {
		if rules == Rules::Negation && !emoji.is_empty() {
			return Err("emoji descriptions need the intensity rules".into());
		}
		if emoji.len() > MAX_EMOJI {
			return Err(format!("{} emoji descriptions, at most {MAX_EMOJI}", emoji.len()));
		}
		let mut table = HashMap::with_capacity(emoji.len());
		for (e, description) in emoji {
			let mut chars = e.chars();
			let (Some(c), None) = (chars.next(), chars.next()) else {
				return Err(format!("emoji {e:?} is not one character"));
			};
			if c.is_ascii()
				|| description.trim().is_empty()
				|| description.len() > MAX_DESCRIPTION_BYTES
			{
				return Err(format!(
					"emoji {e:?} is ASCII, or its description {description:?} is empty or over \
					 {MAX_DESCRIPTION_BYTES} bytes"
				));
			}
			if table.insert(c, description.clone()).is_some() {
				return Err(format!("emoji {e:?} appears twice"));
			}
		}
		let mut lexicon = Self::words(entries)?;
		lexicon.emoji = table;
		lexicon.rules = rules;
		Ok(lexicon)
	}

	pub fn rules(&self) -> Rules {
		self.rules
	}

	fn words(entries: &[(String, f64)]) -> Result<Self, String> {
		if entries.is_empty() || entries.len() > MAX_ENTRIES {
			return Err(format!("lexicon of {} words is outside 1..={MAX_ENTRIES}", entries.len()));
		}
		let mut words = HashMap::with_capacity(entries.len());
		for (word, valence) in entries {
			if word.is_empty()
				|| word.len() > MAX_WORD_BYTES
				|| word.chars().any(char::is_whitespace)
			{
				return Err(format!("lexicon word {word:?} is empty, too long or has a space"));
			}
			if *word != word.to_lowercase() {
				return Err(format!("lexicon word {word:?} is not in lower case"));
			}
			if !valence.is_finite() || valence.abs() > MAX_VALENCE {
				return Err(format!("lexicon valence {valence} of {word:?} is outside -4..=4"));
			}
			if words.insert(word.clone(), *valence).is_some() {
				return Err(format!("lexicon word {word:?} appears twice"));
			}
		}
		Ok(Self { words, emoji: HashMap::new(), rules: Rules::Negation })
	}

	/// Reads the `word<TAB>mean valence<TAB>...` lines of the VADER lexicon file.
	pub fn parse(text: &str) -> Result<Vec<(String, f64)>, String> {
		text.lines()
			.filter(|l| !l.trim().is_empty())
			.enumerate()
			.map(|(n, line)| {
				let mut fields = line.split('\t');
				let word = fields.next().unwrap_or("").to_string();
				let valence = fields
					.next()
					.and_then(|v| v.trim().parse::<f64>().ok())
					.ok_or_else(|| format!("lexicon line {}: no valence", n + 1))?;
				Ok((word, valence))
			})
			.collect()
	}

	/// The valence of a lower-case token: as written (emoticons are punctuation), else with the
	/// punctuation around it stripped (`word`; never empty in the lexicon, so an all-punctuation
	/// token matches only as written).
	fn valence(&self, lower: &str, word: &str) -> Option<f64> {
		self.words.get(lower).or_else(|| self.words.get(word)).copied()
	}

	/// The features of `text` under the lexicon's rules: [`Rules::features`] numbers.
	pub fn features(&self, text: &str) -> Vec<f32> {
		let mut out = self.negation_features(text).to_vec();
		if self.rules == Rules::Intensity {
			let s = intensity::Rules { lexicon: &self.words, emoji: &self.emoji }.scores(text);
			out.extend([s.compound, s.positive, s.negative, s.neutral].map(|v| v as f32));
		}
		out
	}

	/// The `negation` features of `text`: [s / sqrt(s^2 + ALPHA), positive share, negative
	/// share], where s is the sum of the valences of the text's words (each scaled by
	/// [`NEGATION`] within [`NEGATION_REACH`] words after a negation) and the shares divide the
	/// positive and the negative valence by their sum plus the number of words without a
	/// valence.
	pub fn negation_features(&self, text: &str) -> [f32; FEATURES] {
		let (mut sum, mut positive, mut negative, mut plain) = (0.0f64, 0.0f64, 0.0f64, 0usize);
		let mut since_negation = usize::MAX;
		for token in text.split_whitespace() {
			since_negation = since_negation.saturating_add(1);
			let lower = token.to_lowercase();
			let word = lower.trim_matches(|c: char| c.is_ascii_punctuation());
			match self.valence(&lower, word) {
				Some(mut v) => {
					if since_negation <= NEGATION_REACH {
						v *= NEGATION;
					}
					sum += v;
					if v > 0.0 {
						positive += v;
					} else {
						negative -= v;
					}
				}
				None => plain += 1,
			}
			if NEGATIONS.contains(&word) || word.ends_with("n't") {
				since_negation = 0;
			}
		}
		let total = positive + negative + plain as f64;
		let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
		[
			(sum / libm::sqrt(sum * sum + ALPHA)) as f32,
			share(positive) as f32,
			share(negative) as f32,
		]
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn lexicon() -> Lexicon {
		Lexicon::new(&[("good".into(), 1.9), ("bad".into(), -2.5), (":)".into(), 2.0)]).unwrap()
	}

	#[test]
	fn valences_sum_with_negation_and_normalise() {
		let l = lexicon();
		assert_eq!(l.negation_features("nothing here at all"), [0.0, 0.0, 0.0]);
		assert_eq!(l.negation_features(""), [0.0, 0.0, 0.0]);
		let [c, p, n] = l.negation_features("Good, really GOOD!");
		let s = 3.8f64;
		assert_eq!(c, (s / (s * s + ALPHA).sqrt()) as f32);
		assert_eq!((p, n), ((3.8 / 4.8) as f32, 0.0));
		// "not" flips "good" two words later, not "bad" four words later.
		let [c, p, n] = l.negation_features("not so good and then bad");
		let s = 1.9 * NEGATION - 2.5;
		assert_eq!(c, (s / (s * s + ALPHA).sqrt()) as f32);
		assert_eq!(p, 0.0);
		assert_eq!(n, ((1.9 * 0.74 + 2.5) / (1.9 * 0.74 + 2.5 + 4.0)) as f32);
		// Contractions negate; emoticons are looked up before punctuation is stripped.
		assert!(l.negation_features("isn't good")[0] < 0.0);
		assert!(l.negation_features("didn't bad")[0] > 0.0);
		assert!(l.negation_features("ok :)")[0] > 0.0);
	}

	#[test]
	fn intensity_rules_add_vader_scores() {
		let entries = [("good".to_string(), 1.9), ("bad".to_string(), -2.5)];
		let emoji = [("😀".to_string(), "good face".to_string())];
		let l = Lexicon::with_rules(&entries, &emoji, Rules::Intensity).unwrap();
		assert_eq!(l.rules().features(), INTENSITY_FEATURES);
		let f = l.features("very good 😀");
		assert_eq!(f.len(), INTENSITY_FEATURES);
		// The first three are the negation rules' (which do not read emoji).
		assert_eq!(f[..FEATURES], l.negation_features("very good 😀"));
		let s = (1.9 + intensity::BOOST) + (1.9 + intensity::BOOST * 0.95);
		assert_eq!(f[3], (s / (s * s + ALPHA).sqrt()) as f32);
		assert!((f[4] + f[5] + f[6] - 1.0).abs() < 1e-6, "{f:?}");
		assert_eq!(Lexicon::new(&entries).unwrap().features("very good").len(), FEATURES);
		for (emoji, what) in [
			(vec![("ab".to_string(), "x".to_string())], "one character"),
			(vec![("a".to_string(), "x".to_string())], "ASCII"),
			(vec![("😀".to_string(), " ".to_string())], "empty"),
			(
				vec![("😀".to_string(), "x".to_string()), ("😀".to_string(), "y".to_string())],
				"twice",
			),
		] {
			let err = Lexicon::with_rules(&entries, &emoji, Rules::Intensity).err().unwrap();
			assert!(err.contains(what), "{err}");
		}
		let err = Lexicon::with_rules(&entries, &[("😀".into(), "x".into())], Rules::Negation);
		assert!(err.err().unwrap().contains("intensity"));
		assert_eq!(Rules::from_param(None).unwrap(), Rules::Negation);
		assert_eq!(
			Rules::from_param(Some(&serde_json::json!("intensity"))).unwrap(),
			Rules::Intensity
		);
		assert!(Rules::from_param(Some(&serde_json::json!(2)))
			.unwrap_err()
			.contains("lexicon_rules"));
	}

	#[test]
	fn bad_lexicons_are_refused() {
		for (entries, what) in [
			(vec![], "outside"),
			(vec![("Good".to_string(), 1.0)], "lower case"),
			(vec![("good".to_string(), 4.5)], "-4..=4"),
			(vec![("good".to_string(), f64::NAN)], "-4..=4"),
			(vec![("a b".to_string(), 1.0)], "space"),
			(vec![("good".to_string(), 1.0), ("good".to_string(), 2.0)], "twice"),
		] {
			let err = Lexicon::new(&entries).err().unwrap();
			assert!(err.contains(what), "{err}");
		}
		assert!(Lexicon::parse("good\t1.9\t0.5\t[1]\nbad\n").unwrap_err().contains("line 2"));
	}
}
