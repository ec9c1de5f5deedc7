"""Token ids from the Hugging Face `tokenizers` package for the all-MiniLM-L6-v2 tokenizer.

Usage: reference_tokens.py TOKENIZER.json MAX_TOKENS < texts.json; prints one line of
space-separated ids per text.
"""
import json
import sys

from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
tok.enable_truncation(int(sys.argv[2]))
tok.no_padding()
for text in json.load(sys.stdin):
    print(" ".join(str(i) for i in tok.encode(text).ids))
