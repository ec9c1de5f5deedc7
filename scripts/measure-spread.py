"""Measures the spread of honest answers through the ML service's JSON-RPC API, and writes it as a
Rust source file (pallets/guardian/src/measured_spread.rs).

Usage (scripts/measure-spread.sh runs it):
    measure-spread.py query --out-dir DIR --bars BARS.csv --windows N --texts N --warmup N
        --inspect INSPECT.txt --dev-models dev_models.json --registration REGISTRATION.json
        LABEL=URL LABEL=URL ...
    measure-spread.py compare OUT.rs --meta META.json --inputs DIR/inputs.json
        --inspect INSPECT.txt LABEL=DIR/LABEL.jsonl LABEL=DIR/LABEL.jsonl ...

`query` sends every service (one `noderr-ml serve` process per run) the same requests, the ones
the node's off-chain worker makes (pallets/inference/src/offchain.rs, `compute`):
- bar models: the model's method with `{model, bars}`, the bars of a window of the feed's
  history as the worker sends them (fixed point 10^6, written as exact decimals) and as many as
  it sends: the model's window plus the feature warm-up for models on the feature pipeline, the
  window alone for models on raw bars. The method follows the task class the chain gives the
  model (`TaskClass::of_model`): features -> `ml_predict`, raw bars with a regression ->
  `ml_msrr`, raw bars otherwise -> `ml_classifyRegime`;
- text models: `ml_sentiment` with `{model, text}`, over generated market headlines.
Requests travel in JSON-RPC batches (fewer round trips; the service still computes them one by
one, each as its own request) and every service gets the same bytes. One LABEL.jsonl per run:
per model, the results in input order.

`compare` compares every pair of runs per model and per input:
- regression models: the largest absolute difference, in fixed-point units, over the fields
  the worker reveals on chain;
- classifiers: whether the class (what the worker reveals) differs, and the largest absolute
  difference over the quantised class probabilities (not revealed; it shows how close the runs
  came to a flip).
"""
import argparse
import concurrent.futures
import http.client
import itertools
import json
import sys
import time
import urllib.parse
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

# What the worker reveals, by method (pallets/inference/src/offchain.rs, `compute`).
REVEALED = {
    "ml_predict": ["return", "volatility", "confidence"],
    "ml_classifyRegime": ["class"],
    "ml_msrr": [
        "p_calm",
        "p_turbulent",
        "turbulence_next",
        "expected_return_pct",
        "semivariance_pct2",
        "allocation",
    ],
    "ml_sentiment": ["class"],
}
# Calls per JSON-RPC batch: the service's limit (MAX_BATCH_REQUESTS in offchain-ml/src/service.rs).
BATCH = 16


def parse_inspect(path):
    """Manifests of the artifacts, from concatenated `noderr-ml inspect` outputs, by hash."""
    models, current = {}, None
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition(" ")
            value = value.strip()
            if key == "hash":
                current = {"hash": value.lower()}
                models[current["hash"]] = current
            elif key == "model":
                current["name"], current["version"] = value.rsplit(" ", 1)
            elif key == "task":
                current["task"] = json.loads(value)
            elif key == "scale":
                current["scale"] = int(value)
    return models


def registry_specs(path):
    """Registered model specs by artifact hash, from a registry genesis JSON."""
    out = {}
    with open(path) as f:
        for _name, _version, reg in json.load(f):
            spec = reg["spec"]
            out["0x" + bytes(spec["artifact_hash"]).hex()] = spec
    return out


def specs(dev_models, registration):
    """Per artifact hash: its registry spec and where it comes from. The dev genesis registers
    the artifacts the dev chain runs; for others, the default registration policy applies."""
    registered = registry_specs(dev_models)
    defaults = registry_specs(registration)
    out = {}
    for h, spec in defaults.items():
        if h in registered:
            out[h] = (registered[h], "dev genesis (runtime/src/dev_models.json)")
        else:
            out[h] = (spec, "default registration policy (not in dev genesis)")
    return out


def plan(spec, warmup):
    """(method, bars sent) for a registered model, as the worker decides them."""
    (input_kind, input_spec), = spec["input"].items()
    kind = next(iter(spec["kind"]))
    if input_kind == "Text":
        return "ml_sentiment", None
    if input_kind == "Features":
        return "ml_predict", input_spec["window"] + warmup
    if input_kind == "Bars":
        return ("ml_msrr" if kind == "Regression" else "ml_classifyRegime"), input_spec["window"]
    sys.exit(f"unknown input kind {input_kind}")


def fixed(text):
    """A decimal as fixed point 10^6, rounded half away from zero (the chain's parse_decimal)."""
    return int((Decimal(text) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def number(v):
    """A fixed-point 10^6 value as the worker writes it into JSON (`bar_json`): the exact
    decimal, read as a double, printed as the shortest text that reads back the same."""
    sign = "-" if v < 0 else ""
    return json.dumps(float(f"{sign}{abs(v) // 1_000_000}.{abs(v) % 1_000_000:06}"))


def read_bars(path):
    """The bars of a time,open,high,low,close,volume CSV, each as its JSON text."""
    with open(path) as f:
        header = f.readline().strip()
        if header != "time,open,high,low,close,volume":
            sys.exit(f"{path}: unexpected header {header!r}")
        bars = []
        for line in f:
            if line.strip():
                o, h, l, c, v = (number(fixed(x)) for x in line.strip().split(",")[1:6])
                # Keys in the order the worker's JSON object (a sorted map) writes them.
                bars.append(f'{{"close":{c},"high":{h},"low":{l},"open":{o},"volume":{v}}}')
    return bars


# Generated market headlines: every subject with every event and ending, picked with a fixed
# stride so that consecutive texts differ in all three.
SUBJECTS = [
    "Bitcoin",
    "Ether",
    "Gold",
    "The S&P 500",
    "Brent crude",
    "The dollar",
    "The Nasdaq",
    "The bank index",
    "The 10-year yield",
    "Solana",
    "The euro",
    "The chip index",
    "The Russell 2000",
    "Copper",
]
EVENTS = [
    "rallies to a record high",
    "jumps after strong earnings",
    "climbs as inflation cools",
    "gains on rate-cut hopes",
    "surges as buyers return",
    "rebounds after a sharp sell-off",
    "slumps after weak jobs data",
    "falls as regulators tighten rules",
    "plunges on recession fears",
    "drops after an exchange hack",
    "slides as rate fears return",
    "tumbles amid heavy liquidations",
    "trades flat ahead of the central bank meeting",
    "holds steady in quiet trading",
    "is little changed after the data",
    "moves sideways as volumes thin",
    "ends the week where it started",
    "waits for the inflation report",
]
ENDINGS = [
    "",
    ", analysts say",
    " for a third straight day",
    " in early Asian trading",
    " as traders weigh the outlook",
    " and investors love it!",
    ", good news for holders",
    ", traders celebrate",
    ", a painful day for holders",
    " and traders are furious",
]


def headlines(count):
    """`count` distinct headlines, the same on every machine."""
    combos = list(itertools.product(SUBJECTS, EVENTS, ENDINGS))
    if count > len(combos):
        sys.exit(f"at most {len(combos)} texts can be generated, {count} asked for")
    stride = 601  # a prime that does not divide len(combos): i * stride (mod it) is a permutation
    texts = []
    for s, e, t in (combos[i * stride % len(combos)] for i in range(count)):
        texts.append(f"{s} {e}{t}" + ("" if t.endswith("!") else "."))
    assert len(set(texts)) == count
    return texts


def post(conn, body):
    conn.request("POST", "/", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP status {response.status}: {data[:200]!r}")
    reply = json.loads(data)
    if (body if isinstance(body, str) else body.decode()).lstrip().startswith("[") and not isinstance(reply, list):
        raise RuntimeError(f"batch refused: {reply.get('error', reply)}")
    return reply


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=300)


def wait_for_models(label, url, hashes, timeout=180):
    """Waits until the service lists every artifact (`ml_listModels`)."""
    body = b'{"id":0,"jsonrpc":"2.0","method":"ml_listModels","params":[]}'
    deadline = time.monotonic() + timeout
    listed = set()
    while True:
        try:
            reply = post(connect(url), body)
            listed = {m["hash"].lower() for m in reply.get("result") or []}
            if hashes <= listed:
                return
        except (OSError, ValueError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            missing = ", ".join(sorted(hashes - listed))
            sys.exit(f"{label} ({url}): the service does not list {missing} after {timeout} s")
        time.sleep(0.5)


def run_requests(label, url, batches, total):
    """Sends the batches to one service; its results by request id, and the time taken."""
    started = time.monotonic()
    conn = connect(url)
    results = [None] * total
    for body in batches:
        for reply in post(conn, body):
            if "error" in reply:
                raise RuntimeError(
                    f"{label}: request {reply.get('id')}: {reply['error'].get('message')}"
                )
            results[reply["id"]] = reply["result"]
    missing = results.count(None)
    if missing:
        raise RuntimeError(f"{label}: {missing} requests unanswered")
    return results, time.monotonic() - started


def query(a):
    manifests = parse_inspect(a.inspect)
    registered = specs(a.dev_models, a.registration)
    bars = read_bars(a.bars)
    texts = headlines(a.texts)

    models = []
    for h, m in sorted(manifests.items(), key=lambda kv: kv[1]["name"]):
        if h not in registered:
            sys.exit(f"{m['name']} ({h}): no registration entry")
        spec, source = registered[h]
        method, length = plan(spec, a.warmup)
        models.append(
            {
                "name": m["name"],
                "hash": h,
                "method": method,
                "bars": length,
                "fields": REVEALED[method],
                "tolerance": spec["output"]["tolerance"],
                "tolerance_source": source,
            }
        )
    longest = max((m["bars"] for m in models if m["bars"]), default=0)
    if len(bars) < longest + a.windows:
        sys.exit(f"{a.bars}: {len(bars)} bars, too few for {a.windows} windows of {longest}")
    # Windows end at the same bars for every model (as tasks on one new bar do), spread evenly.
    ends = [longest + i * (len(bars) - longest) // a.windows for i in range(a.windows)]

    # The requests, numbered by their JSON-RPC id: (model index, input index, params JSON).
    requests = []
    for k, m in enumerate(models):
        model = json.dumps(m["hash"])
        if m["bars"] is None:
            m["inputs"] = len(texts)
            for i, text in enumerate(texts):
                requests.append((k, i, f'{{"model":{model},"text":{json.dumps(text)}}}'))
        else:
            m["inputs"] = len(ends)
            for i, end in enumerate(ends):
                window = ",".join(bars[end - m["bars"] : end])
                requests.append((k, i, f'{{"bars":[{window}],"model":{model}}}'))
    batches = []
    for start in range(0, len(requests), BATCH):
        calls = [
            f'{{"id":{n},"jsonrpc":"2.0","method":"{models[k]["method"]}","params":{params}}}'
            for n, (k, _i, params) in enumerate(requests[start : start + BATCH], start)
        ]
        batches.append(("[" + ",".join(calls) + "]").encode())

    runs = [arg.partition("=")[::2] for arg in a.runs]
    hashes = {m["hash"] for m in models}
    for label, url in runs:
        wait_for_models(label, url, hashes)
    counts = ", ".join(f"{m['name']} {m['inputs']}" for m in models)
    print(f"{len(requests)} requests per run ({counts}), in {len(batches)} batches")
    # One client thread per service: the services compute side by side.
    with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
        futures = {
            label: pool.submit(run_requests, label, url, batches, len(requests))
            for label, url in runs
        }
        for label, future in futures.items():
            results, seconds = future.result()
            print(f"{label}: {seconds:.0f} s")
            outputs = [[None] * m["inputs"] for m in models]
            for (k, i, _params), result in zip(requests, results):
                outputs[k][i] = result
            with open(f"{a.out_dir}/{label}.jsonl", "w") as f:
                for m, out in zip(models, outputs):
                    f.write(json.dumps({"model": m["name"], "hash": m["hash"], "outputs": out}))
                    f.write("\n")
    with open(f"{a.out_dir}/inputs.json", "w") as f:
        json.dump(
            {
                "windows": len(ends),
                "bars": len(bars),
                "texts": len(texts),
                "models": models,
            },
            f,
        )


def read_run(path):
    """Outputs of one run by model hash."""
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[r["hash"].lower()] = r["outputs"]
    return runs


def compare(a):
    meta = json.load(open(a.meta))
    inputs = json.load(open(a.inputs))
    manifests = parse_inspect(a.inspect)
    runs = []
    for arg in a.runs:
        label, _, path = arg.partition("=")
        runs.append((label, read_run(path)))
    pairs = list(itertools.combinations(range(len(runs)), 2))

    results = []
    for m in inputs["models"]:
        h = m["hash"]
        kind = manifests[h]["task"]["kind"]
        classifier = kind in ("classification", "text_classification")
        outputs = []
        for label, r in runs:
            if h not in r:
                sys.exit(f"run {label} has no outputs for {m['name']} ({h})")
            outputs.append(r[h])
        n = len(outputs[0])
        if any(len(o) != n for o in outputs):
            sys.exit(f"{m['name']}: the runs have different numbers of inputs")

        hist, flips, per_pair = Counter(), 0, []
        for x, y in pairs:
            pair_max, pair_diff_inputs, pair_flips = 0, 0, 0
            for i in range(n):
                u, v = outputs[x][i], outputs[y][i]
                if classifier:
                    d = max(abs(s - t) for s, t in zip(u["probabilities"], v["probabilities"]))
                    if u["class"] != v["class"]:
                        pair_flips += 1
                else:
                    d = max(abs(u[f] - v[f]) for f in m["fields"])
                hist[d] += 1
                pair_max = max(pair_max, d)
                pair_diff_inputs += d != 0
            flips += pair_flips
            per_pair.append(
                {
                    "pair": f"{runs[x][0]} vs {runs[y][0]}",
                    "max": pair_max,
                    "differing": pair_diff_inputs,
                    "flips": pair_flips,
                    "inputs": n,
                }
            )
        results.append(
            {
                **m,
                "scale": manifests[h]["scale"],
                "classifier": classifier,
                "inputs": n,
                "comparisons": sum(hist.values()),
                "hist": sorted(hist.items()),
                "flips": flips,
                "per_pair": per_pair,
            }
        )

    with open(a.out, "w") as f:
        f.write(render(meta, inputs, [label for label, _ in runs], results))
    report(results)


def wrap(text, width):
    """`text` in lines of at most `width` characters, broken at spaces."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return lines


def render(meta, inputs, labels, results):
    """The generated Rust file."""
    L = []
    w = L.append

    def paragraph(text, first="//! ", rest="//! "):
        for i, line in enumerate(wrap(text, 96 - len(first))):
            w((first if i == 0 else rest) + line)

    paragraph(
        "Measured spread of honest answers: how far the quantised outputs that operators reveal "
        "on chain differ between separate processes and CPU code paths on the same inputs."
    )
    w("//!")
    paragraph(
        "Measured through the ML service's typed JSON-RPC methods (`ml_predict`, "
        "`ml_classifyRegime`, `ml_msrr`, `ml_sentiment`; the off-chain worker's `ml_run` "
        "answers the same values in the registry's order), with the inputs the worker "
        "sends: one `noderr-ml serve --workers 1 --cpu-mode MODE` process per run, every run "
        "sent the same requests."
    )
    w("//!")
    w(f"//! Generated by scripts/measure-spread.sh on {meta['date']}; do not edit by hand.")
    w(f"//! - CPU: {meta['cpu']} ({meta['cores']} cores; AVX-512: {meta['avx512']})")
    paragraph(
        f"runs compared pairwise (one service process each): {', '.join(labels)}",
        "//! - ",
        "//!   ",
    )
    paragraph(
        f"inputs: {inputs['windows']} windows of the bar history ending at bars spread evenly "
        f"over {inputs['bars']} hourly BTC/USD bars, each as many bars as the worker sends for "
        f"the model (below); for the text model, {inputs['texts']} distinct generated market "
        "headlines",
        "//! - ",
        "//!   ",
    )
    w(f"//! - tool: {meta['tool']}")
    w("//!")
    paragraph(
        "Regression models: the largest absolute difference over the revealed fields of one "
        "input, per pair of runs. Classifiers reveal the class only: `class_flips` counts the "
        "comparisons whose classes differ, and `diffs` holds the largest absolute difference "
        "over the quantised class probabilities."
    )
    w("//!")
    w("//! Per pair of runs (largest difference; inputs that differ / inputs; class flips):")
    for r in results:
        sent = f"{r['bars']} bars" if r["bars"] else "text"
        paragraph(
            f"{r['name']} ({r['method']}, {sent}; reveals {', '.join(r['fields'])}):",
            "//! - ",
            "//!   ",
        )
        for pp in r["per_pair"]:
            flips = f", {pp['flips']} flips" if r["classifier"] else ""
            w(f"//!   - {pp['pair']}: max {pp['max']}; {pp['differing']}/{pp['inputs']}{flips}")
    w("")
    w("/// One model's measured spread of honest answers.")
    w("pub struct ModelSpread {")
    w("\t/// The model's registered name.")
    w("\tpub name: &'static str,")
    w("\t/// Fixed-point scale of its outputs (units per 1.0).")
    w("\tpub scale: u64,")
    w("\t/// Agreement tolerance the chain registers for it, in fixed-point units.")
    w("\tpub tolerance: u64,")
    w("\t/// Whether it reveals a class (compared for equality) rather than numbers.")
    w("\tpub classifier: bool,")
    w("\t/// Number of pairwise comparisons (pairs of runs times inputs).")
    w("\tpub comparisons: u32,")
    w("\t/// Histogram of the largest absolute difference of one comparison: (difference in")
    w("\t/// fixed-point units, count), by increasing difference; the counts sum to `comparisons`.")
    w("\tpub diffs: &'static [(u64, u32)],")
    w("\t/// Comparisons whose classes differ (always 0 for regression models).")
    w("\tpub class_flips: u32,")
    w("}")
    w("")
    w("/// The measured spread of every model, by name.")
    w("pub const SPREADS: &[ModelSpread] = &[")
    for r in results:
        w("\tModelSpread {")
        w(f"\t\tname: {json.dumps(r['name'])},")
        w(f"\t\tscale: {r['scale']:_},")
        w(f"\t\ttolerance: {r['tolerance']:_},")
        w(f"\t\tclassifier: {'true' if r['classifier'] else 'false'},")
        w(f"\t\tcomparisons: {r['comparisons']},")
        # As rustfmt lays it out (tabs count 4 columns, lines of 100): on one line if it fits,
        # else one pair per line.
        items = [f"({d}, {c})" for d, c in r["hist"]]
        inline = f"\t\tdiffs: &[{', '.join(items)}],"
        if len(inline.expandtabs(4)) <= 100:
            w(inline)
        else:
            w("\t\tdiffs: &[")
            for item in items:
                w(f"\t\t\t{item},")
            w("\t\t],")
        w(f"\t\tclass_flips: {r['flips']},")
        w("\t},")
    w("];")
    return "\n".join(L) + "\n"


def report(results):
    """A summary on stdout."""
    for r in results:
        largest = r["hist"][-1][0] if r["hist"] else 0
        within = sum(c for d, c in r["hist"] if d <= r["tolerance"])
        print(
            f"{r['name']} ({r['method']}): largest difference {largest} (tolerance "
            f"{r['tolerance']}, scale {r['scale']}), {within}/{r['comparisons']} comparisons "
            "within tolerance"
            + (f", class flips {r['flips']}/{r['comparisons']}" if r["classifier"] else "")
            + f", {r['inputs']} inputs"
        )
        for pp in r["per_pair"]:
            flips = f", flips {pp['flips']}" if r["classifier"] else ""
            print(
                f"    {pp['pair']:<22} max {pp['max']:>8}  differing {pp['differing']}/"
                f"{pp['inputs']}{flips}"
            )
        if r["tolerance_source"].startswith("default"):
            print(f"    tolerance from the {r['tolerance_source']}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    q = sub.add_parser("query")
    q.add_argument("--out-dir", required=True)
    q.add_argument("--bars", required=True)
    q.add_argument("--windows", type=int, required=True)
    q.add_argument("--texts", type=int, required=True)
    q.add_argument("--warmup", type=int, required=True)
    q.add_argument("--inspect", required=True)
    q.add_argument("--dev-models", required=True)
    q.add_argument("--registration", required=True)
    q.add_argument("runs", nargs="+", metavar="LABEL=URL")
    c = sub.add_parser("compare")
    c.add_argument("out")
    c.add_argument("--meta", required=True)
    c.add_argument("--inputs", required=True)
    c.add_argument("--inspect", required=True)
    c.add_argument("runs", nargs="+", metavar="LABEL=FILE")
    a = p.parse_args()
    if a.command == "query":
        query(a)
    else:
        compare(a)


if __name__ == "__main__":
    main()
