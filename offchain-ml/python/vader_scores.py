"""VADER's scores of each text before rounding: the reference of the sentiment model's intensity
features (offchain-ml/src/pipeline/intensity.rs, checked by tests/intensity_reference.rs).

Reads a JSON list of strings on standard input, prints "compound positive negative neutral" per
line, each the shortest decimal that reads back as the same double.
"""
import json
import sys

from vaderSentiment import vaderSentiment

# polarity_scores rounds its results (compound to 4 places, the shares to 3) with the module's
# name `round`; shadowing it there keeps the exact values and changes nothing else.
vaderSentiment.round = lambda value, places: value

analyzer = vaderSentiment.SentimentIntensityAnalyzer()
for text in json.load(sys.stdin):
    s = analyzer.polarity_scores(text)
    print(repr(s["compound"]), repr(s["pos"]), repr(s["neg"]), repr(s["neu"]))
