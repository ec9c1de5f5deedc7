"""Turns the Bitstamp daily CSV of several assets (CryptoDataDownload's columns, one
`ASSET:field` group per asset) into one file per asset in the project's bar format.

Used for the out-of-domain evaluation: another exchange, other assets and another timeframe than
the hourly BTC bars the price model is trained on. Output columns: time (UTC, ISO 8601), open,
high, low, close, volume (in the asset), oldest first; days an asset did not trade yet (empty
fields) are left out, as is the source's last, partial day; duplicates dropped.

usage: prepare_daily.py SOURCE TARGET_DIR ASSET...   (writes TARGET_DIR/bitstamp_<asset>_1d.csv)
"""
import csv
import os
import sys
from datetime import datetime

source, target_dir, assets = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(source, newline="") as f:
    table = list(csv.DictReader(f))
# The source was cut in the middle of its last day: that bar is partial (a fraction of a day's
# volume), so it is left out.
last_day = max(r[""] for r in table)
table = [r for r in table if r[""] != last_day]
for asset in assets:
    rows = {}
    for r in table:
        fields = [r.get(f"{asset}:{k}", "") for k in ("open", "high", "low", "close", "volume")]
        if any(x.strip() == "" for x in fields):
            continue
        o, h, l, c, v = (float(x) for x in fields)
        if min(o, h, l, c) <= 0:
            continue
        # Widen high and low where they do not enclose open and close.
        h, l = max(h, o, c), min(l, o, c)
        rows[datetime.strptime(r[""], "%Y-%m-%d")] = (o, h, l, c, v)
    target = os.path.join(target_dir, f"bitstamp_{asset.lower()}_1d.csv")
    with open(target + ".part", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "open", "high", "low", "close", "volume"])
        for t in sorted(rows):
            w.writerow([t.strftime("%Y-%m-%dT00:00:00Z"), *rows[t]])
    os.replace(target + ".part", target)
    print(f"{asset}: {len(rows)} daily bars, {min(rows):%Y-%m-%d} .. {max(rows):%Y-%m-%d}")
