//! Lexicon features of a text for the sentiment model's head, beside the encoder's embedding:
//! the valence people gave each word (the VADER lexicon, shipped in the artifact's manifest),
//! summed with negation, in the three numbers the head reads.
//!
//! The embedding knows how words combine; the lexicon knows the strength of rare and domain
//! words the encoder's training did not weigh. Computed in f64 from sums in text order and one
//! correctly rounded square root, so every processor gives the same bits.

use std::collections::HashMap;

/// Numbers the head reads per text: the normalised valence sum and the shares of positive and
/// negative valence.
pub const FEATURES: usize = 3;
/// Largest lexicon an artifact may carry, and its longest word in bytes.
pub const MAX_ENTRIES: usize = 20_000;
pub const MAX_WORD_BYTES: usize = 64;
/// Valences are on the raters' -4 .. 4 scale.
pub const MAX_VALENCE: f64 = 4.0;
/// A word within this many words after a negation has its valence scaled by [`NEGATION`].
pub const NEGATION_REACH: usize = 3;
pub const NEGATION: f64 = -0.74;
/// The sum s becomes s / sqrt(s^2 + ALPHA), within -1 .. 1.
pub const ALPHA: f64 = 15.0;

/// Words that negate what follows (compared in lower case, punctuation stripped).
const NEGATIONS: [&str; 20] = [
	"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot",
	"without", "isnt", "isn't", "dont", "don't", "doesnt", "doesn't", "wasnt", "wasn't", "aint",
];

/// Word valences, looked up by lower-case word.
pub struct Lexicon {
	words: HashMap<String, f64>,
}

impl Lexicon {
	/// Builds a lexicon, refusing empty, duplicate, over-long or out-of-range entries.
	pub fn new(entries: &[(String, f64)]) -> Result<Self, String> {
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
		Ok(Self { words })
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

	/// The features of `text`: [s / sqrt(s^2 + ALPHA), positive share, negative share], where s
	/// is the sum of the valences of the text's words (each scaled by [`NEGATION`] within
	/// [`NEGATION_REACH`] words after a negation) and the shares divide the positive and the
	/// negative valence by their sum plus the number of words without a valence.
	pub fn features(&self, text: &str) -> [f32; FEATURES] {
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
		assert_eq!(l.features("nothing here at all"), [0.0, 0.0, 0.0]);
		assert_eq!(l.features(""), [0.0, 0.0, 0.0]);
		let [c, p, n] = l.features("Good, really GOOD!");
		let s = 3.8f64;
		assert_eq!(c, (s / (s * s + ALPHA).sqrt()) as f32);
		assert_eq!((p, n), ((3.8 / 4.8) as f32, 0.0));
		// "not" flips "good" two words later, not "bad" four words later.
		let [c, p, n] = l.features("not so good and then bad");
		let s = 1.9 * NEGATION - 2.5;
		assert_eq!(c, (s / (s * s + ALPHA).sqrt()) as f32);
		assert_eq!(p, 0.0);
		assert_eq!(n, ((1.9 * 0.74 + 2.5) / (1.9 * 0.74 + 2.5 + 4.0)) as f32);
		// Contractions negate; emoticons are looked up before punctuation is stripped.
		assert!(l.features("isn't good")[0] < 0.0);
		assert!(l.features("didn't bad")[0] > 0.0);
		assert!(l.features("ok :)")[0] > 0.0);
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
