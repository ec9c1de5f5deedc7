//! The sentiment intensity of a text by VADER's rules (Hutto and Gilbert, "VADER: A
//! Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM 2014), as
//! vaderSentiment 3.3.2 applies them: word valences from the lexicon, raised or lowered by the
//! degree words before them ("very", "barely"), by capitals that stand out, flipped by the
//! negations within three words, weighted around a contrastive "but", with idioms and "least",
//! then summed with the emphasis of "!" and "?" into a compound score and the shares of
//! positive, negative and neutral words.
//!
//! The published rules are matched quirk for quirk (including how "but" reweighs repeated
//! values), so a text scores here exactly as vaderSentiment scores it before rounding:
//! `tests/intensity_reference.rs` checks every human-rated text of the VADER study and the
//! training texts against it. f64 arithmetic in the reference's order and one correctly
//! rounded square root: the same bits on every processor.

use std::{borrow::Cow, collections::HashMap};

/// What a degree word adds to the magnitude of the valence after it.
pub const BOOST: f64 = 0.293;
/// What a word in capitals adds to its magnitude when the text is not all in capitals.
pub const CAPS: f64 = 0.733;
/// The factor of a negated valence.
pub const NEGATION: f64 = -0.74;
/// The sum s becomes s / sqrt(s^2 + ALPHA), within -1 .. 1.
pub const ALPHA: f64 = 15.0;
/// Each "!" (at most four) adds this to the magnitude of the sum.
pub const EXCLAMATION: f64 = 0.292;

/// Words that negate the valence of a word up to three places later; any word containing
/// "n't" does too.
#[rustfmt::skip]
const NEGATIONS: [&str; 59] = [
	"aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't",
	"can't", "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent",
	"isnt", "mightnt", "mustnt", "neither", "don't", "hadn't", "hasn't", "haven't", "isn't",
	"mightn't", "mustn't", "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing",
	"nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't",
	"shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't",
	"rarely", "seldom", "despite",
];

/// Degree words that raise the valence after them by [`BOOST`].
#[rustfmt::skip]
const RAISING: [&str; 60] = [
	"absolutely", "amazingly", "awfully", "completely", "considerable", "considerably",
	"decidedly", "deeply", "effing", "enormous", "enormously", "entirely", "especially",
	"exceptional", "exceptionally", "extreme", "extremely", "fabulously", "flipping", "flippin",
	"frackin", "fracking", "fricking", "frickin", "frigging", "friggin", "fully", "fuckin",
	"fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely", "incredible",
	"incredibly", "intensely", "major", "majorly", "more", "most", "particularly", "purely",
	"quite", "really", "remarkably", "so", "substantially", "thoroughly", "total", "totally",
	"tremendous", "tremendously", "uber", "unbelievably", "unusually", "utter", "utterly", "very",
];

/// Degree words that lower the valence after them by [`BOOST`] (some are phrases, found only
/// among the words before a valence).
#[rustfmt::skip]
const LOWERING: [&str; 24] = [
	"almost", "barely", "hardly", "just enough", "kind of", "kinda", "kindof", "kind-of", "less",
	"little", "marginal", "marginally", "occasional", "occasionally", "partly", "scarce",
	"scarcely", "slight", "slightly", "somewhat", "sort of", "sorta", "sortof", "sort-of",
];

/// Phrases whose valence replaces that of the word they contain.
const SPECIAL_CASES: [(&str, f64); 9] = [
	("the shit", 3.0),
	("the bomb", 3.0),
	("bad ass", 1.5),
	("badass", 1.5),
	("bus stop", 0.0),
	("yeah right", -2.0),
	("kiss of death", -1.5),
	("to die for", 3.0),
	("beating heart", 3.5),
];

/// The degree a word or phrase (in lower case) adds, if it is a degree word.
fn degree(word: &str) -> Option<f64> {
	if RAISING.contains(&word) {
		Some(BOOST)
	} else if LOWERING.contains(&word) {
		Some(-BOOST)
	} else {
		None
	}
}

fn special_case(phrase: &str) -> Option<f64> {
	SPECIAL_CASES.iter().find(|(p, _)| *p == phrase).map(|(_, v)| *v)
}

fn negates(word: &str) -> bool {
	NEGATIONS.contains(&word) || word.contains("n't")
}

/// Whitespace as Python's `str.split` and `str.strip` see it (Rust's, plus the four
/// information separators).
fn space(c: char) -> bool {
	c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.isupper`: some cased character, and none in lower or title case.
fn all_caps(word: &str) -> bool {
	let mut cased = false;
	for c in word.chars() {
		let title = matches!(c,
			'\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}' | '\u{1f88}'..='\u{1f8f}'
			| '\u{1f98}'..='\u{1f9f}' | '\u{1fa8}'..='\u{1faf}' | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}');
		if c.is_lowercase() || title {
			return false;
		}
		cased |= c.is_uppercase();
	}
	cased
}

/// The scores of a text.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
	/// The normalised sum of the valences, -1 .. 1.
	pub compound: f64,
	/// The shares of positive, negative and neutral words, weighted by valence; they sum to 1
	/// (or are all 0 for a text without words).
	pub positive: f64,
	pub negative: f64,
	pub neutral: f64,
}

/// The lexicon and emoji descriptions the rules read.
pub struct Rules<'a> {
	/// Valences by lower-case word.
	pub lexicon: &'a HashMap<String, f64>,
	/// Descriptions that replace single-character emoji before scoring.
	pub emoji: &'a HashMap<char, String>,
}

impl Rules<'_> {
	fn valence_of(&self, word: &str) -> Option<f64> {
		self.lexicon.get(word).copied()
	}

	/// Scores `text`.
	pub fn scores(&self, text: &str) -> Scores {
		let text = self.describe_emoji(text);
		let text = text.trim_matches(space);
		// Tokens with the punctuation around them stripped, unless that leaves two characters
		// or fewer (an emoticon such as ":)" stays whole).
		let words: Vec<&str> = text
			.split(space)
			.filter(|t| !t.is_empty())
			.map(|t| {
				let stripped = t.trim_matches(|c: char| c.is_ascii_punctuation());
				if stripped.chars().count() <= 2 {
					t
				} else {
					stripped
				}
			})
			.collect();
		let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
		let capitals = words.iter().filter(|w| all_caps(w)).count();
		// Capitals stand out only when some words have them and others do not.
		let caps_differ = capitals > 0 && capitals < words.len();
		let mut valences = Vec::with_capacity(words.len());
		for i in 0..words.len() {
			let degree_word = degree(&lower[i]).is_some()
				|| (lower[i] == "kind" && lower.get(i + 1).is_some_and(|w| w == "of"));
			valences.push(if degree_word {
				0.0
			} else {
				self.valence(&words, &lower, i, caps_differ)
			});
		}
		if let Some(but) = lower.iter().position(|w| w == "but") {
			// Before "but" half, after it one and a half. As the reference does it: each value
			// in turn is looked up again by value, so a repeated value reweighs its first place.
			for k in 0..valences.len() {
				let v = valences[k];
				let first = valences.iter().position(|x| *x == v).expect("present");
				if first < but {
					valences[first] = v * 0.5;
				} else if first > but {
					valences[first] = v * 1.5;
				}
			}
		}
		summarise(&valences, text)
	}

	/// The text with every emoji in the table replaced by its description, separated from a
	/// preceding character other than a space.
	fn describe_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
		if !text.chars().any(|c| self.emoji.contains_key(&c)) {
			return Cow::Borrowed(text);
		}
		let mut out = String::with_capacity(text.len() * 2);
		let mut after_space = true;
		for c in text.chars() {
			match self.emoji.get(&c) {
				Some(description) => {
					if !after_space {
						out.push(' ');
					}
					out.push_str(description);
					after_space = false;
				}
				None => {
					out.push(c);
					after_space = c == ' ';
				}
			}
		}
		Cow::Owned(out)
	}

	/// The valence of word `i` after the rules of the words around it.
	fn valence(&self, words: &[&str], w: &[String], i: usize, caps_differ: bool) -> f64 {
		let Some(base) = self.valence_of(&w[i]) else { return 0.0 };
		let mut v = base;
		// "no" before another valence word is a negation, not a valence of its own.
		if w[i] == "no" && w.get(i + 1).is_some_and(|next| self.valence_of(next).is_some()) {
			v = 0.0;
		}
		if (i > 0 && w[i - 1] == "no")
			|| (i > 1 && w[i - 2] == "no")
			|| (i > 2 && w[i - 3] == "no" && (w[i - 1] == "or" || w[i - 1] == "nor"))
		{
			v = base * NEGATION;
		}
		if caps_differ && all_caps(words[i]) {
			v += if v > 0.0 { CAPS } else { -CAPS };
		}
		for back in 0..3 {
			if i <= back || self.valence_of(&w[i - back - 1]).is_some() {
				continue;
			}
			let before = i - back - 1;
			let mut s = match degree(&w[before]) {
				Some(d) => {
					let mut s = if v < 0.0 { -d } else { d };
					if caps_differ && all_caps(words[before]) {
						s += if v > 0.0 { CAPS } else { -CAPS };
					}
					s
				}
				None => 0.0,
			};
			// Degree words further back count less.
			if back == 1 && s != 0.0 {
				s *= 0.95;
			}
			if back == 2 && s != 0.0 {
				s *= 0.9;
			}
			v += s;
			v = negation(v, w, back, i);
			if back == 2 {
				v = self.idioms(v, w, i);
			}
		}
		// "least" before a word negates it, except in "at least" and "very least".
		if i > 0
			&& w[i - 1] == "least"
			&& self.valence_of(&w[i - 1]).is_none()
			&& (i == 1 || (w[i - 2] != "at" && w[i - 2] != "very"))
		{
			v *= NEGATION;
		}
		v
	}

	/// Special-case phrases around word `i` (at least three words in) and degree phrases
	/// before it.
	fn idioms(&self, mut v: f64, w: &[String], i: usize) -> f64 {
		let one_zero = format!("{} {}", w[i - 1], w[i]);
		let two_one_zero = format!("{} {} {}", w[i - 2], w[i - 1], w[i]);
		let two_one = format!("{} {}", w[i - 2], w[i - 1]);
		let three_two_one = format!("{} {} {}", w[i - 3], w[i - 2], w[i - 1]);
		let three_two = format!("{} {}", w[i - 3], w[i - 2]);
		if let Some(s) = [&one_zero, &two_one_zero, &two_one, &three_two_one, &three_two]
			.into_iter()
			.find_map(|p| special_case(p))
		{
			v = s;
		}
		if i + 1 < w.len() {
			if let Some(s) = special_case(&format!("{} {}", w[i], w[i + 1])) {
				v = s;
			}
		}
		if i + 2 < w.len() {
			if let Some(s) = special_case(&format!("{} {} {}", w[i], w[i + 1], w[i + 2])) {
				v = s;
			}
		}
		for phrase in [&three_two_one, &three_two, &two_one] {
			if let Some(d) = degree(phrase) {
				v += d;
			}
		}
		v
	}
}

/// The negation (or "never so" emphasis) of word `i`'s valence by the word `back + 1` places
/// before it.
fn negation(v: f64, w: &[String], back: usize, i: usize) -> f64 {
	let so_or_this = |x: &str| x == "so" || x == "this";
	match back {
		0 if negates(&w[i - 1]) => v * NEGATION,
		1 if w[i - 2] == "never" && so_or_this(&w[i - 1]) => v * 1.25,
		1 if w[i - 2] == "without" && w[i - 1] == "doubt" => v,
		1 if negates(&w[i - 2]) => v * NEGATION,
		2 if (w[i - 3] == "never" && so_or_this(&w[i - 2])) || so_or_this(&w[i - 1]) => v * 1.25,
		2 if w[i - 3] == "without" && (w[i - 2] == "doubt" || w[i - 1] == "doubt") => v,
		2 if negates(&w[i - 3]) => v * NEGATION,
		_ => v,
	}
}

/// The compound score and shares of the words' valences, with the emphasis of the text's
/// exclamation and question marks.
fn summarise(valences: &[f64], text: &str) -> Scores {
	if valences.is_empty() {
		return Scores::default();
	}
	let exclamations = text.matches('!').count().min(4);
	let questions = text.matches('?').count();
	let emphasis = exclamations as f64 * EXCLAMATION
		+ match questions {
			0 | 1 => 0.0,
			2 | 3 => questions as f64 * 0.18,
			_ => 0.96,
		};
	let mut sum = valences.iter().fold(0.0, |a, v| a + v);
	if sum > 0.0 {
		sum += emphasis;
	} else if sum < 0.0 {
		sum -= emphasis;
	}
	let compound = (sum / libm::sqrt(sum * sum + ALPHA)).clamp(-1.0, 1.0);
	// Each valence word counts one more than its valence, like a neutral word counts one.
	let (mut positive, mut negative, mut neutral) = (0.0f64, 0.0f64, 0usize);
	for v in valences {
		if *v > 0.0 {
			positive += v + 1.0;
		} else if *v < 0.0 {
			negative += v - 1.0;
		} else {
			neutral += 1;
		}
	}
	if positive > negative.abs() {
		positive += emphasis;
	} else if positive < negative.abs() {
		negative -= emphasis;
	}
	let total = positive + negative.abs() + neutral as f64;
	Scores {
		compound,
		positive: (positive / total).abs(),
		negative: (negative / total).abs(),
		neutral: (neutral as f64 / total).abs(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn rules_with<R>(f: impl FnOnce(&Rules) -> R) -> R {
		let lexicon: HashMap<String, f64> = [
			("good", 1.9),
			("bad", -2.5),
			("great", 3.1),
			("no", -1.2),
			(":)", 2.0),
			("smiling", 1.6),
			("shit", -2.6),
		]
		.into_iter()
		.map(|(w, v)| (w.to_string(), v))
		.collect();
		let emoji: HashMap<char, String> = [('😀', "smiling face".to_string())].into();
		f(&Rules { lexicon: &lexicon, emoji: &emoji })
	}

	fn compound(sum: f64) -> f64 {
		sum / (sum * sum + ALPHA).sqrt()
	}

	#[test]
	fn rules_apply_as_published() {
		rules_with(|r| {
			assert_eq!(r.scores(""), Scores::default());
			assert_eq!(r.scores("  \t "), Scores::default());
			// A plain valence word: one positive word counted 2.9 against one neutral.
			let s = r.scores("good day");
			assert_eq!(s.compound, compound(1.9));
			assert_eq!((s.positive, s.negative, s.neutral), (2.9 / 3.9, 0.0, 1.0 / 3.9));
			// A degree word before it, and further back.
			assert_eq!(r.scores("very good").compound, compound(1.9 + BOOST));
			assert_eq!(r.scores("very much good").compound, compound(1.9 + BOOST * 0.95));
			assert_eq!(r.scores("barely good").compound, compound(1.9 - BOOST));
			assert_eq!(r.scores("very bad").compound, compound(-2.5 - BOOST));
			// Negation one, two and three words back; "n't" anywhere in the word.
			assert_eq!(r.scores("not good").compound, compound(1.9 * NEGATION));
			assert_eq!(r.scores("isn't really good").compound, compound((1.9 + BOOST) * NEGATION));
			assert_eq!(r.scores("never so good").compound, compound((1.9 + BOOST) * 1.25));
			// Capitals that stand out, but not a text all in capitals.
			assert_eq!(r.scores("GOOD day").compound, compound(1.9 + CAPS));
			assert_eq!(r.scores("GOOD DAY").compound, compound(1.9));
			// "!" up to four, "?" from two on.
			assert_eq!(r.scores("good!!").compound, compound(1.9 + 2.0 * EXCLAMATION));
			assert_eq!(r.scores("good!!!!!!").compound, compound(1.9 + 4.0 * EXCLAMATION));
			assert_eq!(r.scores("good??").compound, compound(1.9 + 0.36));
			assert_eq!(r.scores("good?????").compound, compound(1.9 + 0.96));
			// "but": half before, one and a half after.
			assert_eq!(r.scores("good but bad").compound, compound(1.9 * 0.5 - 2.5 * 1.5));
			// Emoticons keep their punctuation, words lose theirs.
			assert_eq!(r.scores("(good) :)").compound, compound(3.9));
			// Emoji become their description.
			assert_eq!(r.scores("ok😀").compound, compound(1.6));
			// Special cases and "least".
			assert_eq!(r.scores("it is the shit").compound, compound(3.0));
			assert_eq!(r.scores("the least good").compound, compound(1.9 * NEGATION));
			assert_eq!(r.scores("at least good").compound, compound(1.9));
			// "no" before a valence word is not a valence itself, but negates it.
			assert_eq!(r.scores("no good").compound, compound(1.9 * NEGATION));
		});
	}

	#[test]
	fn capitals_follow_python() {
		assert!(all_caps("GOOD") && all_caps("A1!") && all_caps("ÉTÉ"));
		assert!(!all_caps("Good") && !all_caps("123") && !all_caps(":)") && !all_caps("ǅA"));
	}
}
