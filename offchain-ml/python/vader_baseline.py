"""VADER's compound score for each text: the lexicon baseline of the sentiment evaluation.

Reads a JSON list of strings on standard input, prints one compound score per line.
"""
import json
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

analyzer = SentimentIntensityAnalyzer()
for text in json.load(sys.stdin):
    print(analyzer.polarity_scores(text)["compound"])
