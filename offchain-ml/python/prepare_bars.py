"""Turns a CryptoDataDownload hourly CSV into the project's bar format.

Output columns: time (UTC, ISO 8601), open, high, low, close, volume (in the base asset), oldest
first, one row per hour present in the source (gaps are kept as gaps, duplicates dropped).
"""
import csv
import sys
from datetime import datetime

source, target = sys.argv[1], sys.argv[2]
rows = {}
with open(source, newline="") as f:
    lines = f.read().splitlines()
# The first line is a provenance note, the second the header.
reader = csv.DictReader(lines[1:])
for r in reader:
    t = datetime.strptime(r["date"], "%Y-%m-%d %I-%p")
    o, h, l, c = (float(r[k]) for k in ("open", "high", "low", "close"))
    v = float(r["volume_btc"])
    # A handful of source rows have high/low not enclosing open/close; widen them.
    h, l = max(h, o, c), min(l, o, c)
    rows[t] = (o, h, l, c, v)
with open(target, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "open", "high", "low", "close", "volume"])
    for t in sorted(rows):
        w.writerow([t.strftime("%Y-%m-%dT%H:00:00Z"), *rows[t]])
print(f"{len(rows)} bars, {min(rows)} .. {max(rows)}")
