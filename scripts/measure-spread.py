"""Compares the quantised outputs of several `noderr-ml check` runs and writes the measured spread
of honest answers as a Rust source file (pallets/guardian/src/measured_spread.rs).

Usage (scripts/measure-spread.sh runs it):
    measure-spread.py OUT.rs --meta META.json --inspect INSPECT.txt --dev-models dev_models.json
        --registration REGISTRATION.json LABEL=CHECK.jsonl LABEL=CHECK.jsonl ...

Per model, every pair of runs is compared on every input:
- regression models: the largest absolute difference, in fixed-point units, over the fields a
  node reveals on chain (the manifest's outputs, in order: what the off-chain worker submits);
- classifiers: whether the class (what a node reveals) differs, and the largest absolute
  difference over the quantised class probabilities (not revealed; it shows how close the
  runs came to a flip).
The `check` command classifies a fixed set of texts for the text model, cycling through them
over the windows; those inputs are compared once per distinct text, not once per window.
"""
import argparse
import itertools
import json
import sys
from collections import Counter


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


def tolerances(path):
    """Registered tolerance and scale by artifact hash, from a registry genesis JSON."""
    out = {}
    with open(path) as f:
        for _name, _version, reg in json.load(f):
            spec = reg["spec"]
            h = "0x" + bytes(spec["artifact_hash"]).hex()
            out[h] = (spec["output"]["tolerance"], spec["output"]["scale"])
    return out


def read_run(path):
    """Outputs of one `check` run by model hash."""
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[r["hash"].lower()] = r["outputs"]
    return runs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--meta", required=True)
    p.add_argument("--inspect", required=True)
    p.add_argument("--dev-models", required=True)
    p.add_argument("--registration", required=True)
    p.add_argument("runs", nargs="+", metavar="LABEL=FILE")
    a = p.parse_args()

    meta = json.load(open(a.meta))
    manifests = parse_inspect(a.inspect)
    registered = tolerances(a.dev_models)
    defaults = tolerances(a.registration)
    runs = []
    for arg in a.runs:
        label, _, path = arg.partition("=")
        runs.append((label, read_run(path)))
    pairs = list(itertools.combinations(range(len(runs)), 2))

    results = []
    for h, m in sorted(manifests.items(), key=lambda kv: kv[1]["name"]):
        kind = m["task"]["kind"]
        classifier = kind in ("classification", "text_classification")
        if h in registered:
            tolerance, source = registered[h][0], "dev genesis (runtime/src/dev_models.json)"
        else:
            tolerance, source = defaults[h][0], "default registration policy (not in dev genesis)"
        outputs = []
        for label, r in runs:
            if h not in r:
                sys.exit(f"run {label} has no outputs for {m['name']} ({h})")
            outputs.append(r[h])
        n = len(outputs[0])
        if any(len(o) != n for o in outputs):
            sys.exit(f"{m['name']}: the runs have different numbers of windows")
        inputs = list(range(n))
        if kind == "text_classification":
            # One input per distinct text: windows whose outputs are the same in every run.
            seen = {}
            for i in inputs:
                seen.setdefault(json.dumps([o[i] for o in outputs], sort_keys=True), i)
            inputs = sorted(seen.values())
        fields = None if classifier else m["task"]["outputs"]

        hist, flips, per_pair = Counter(), 0, []
        for x, y in pairs:
            pair_max, pair_diff_inputs, pair_flips = 0, 0, 0
            for i in inputs:
                u, v = outputs[x][i], outputs[y][i]
                if classifier:
                    d = max(abs(s - t) for s, t in zip(u["probabilities"], v["probabilities"]))
                    if u["class"] != v["class"]:
                        pair_flips += 1
                else:
                    d = max(abs(u[f] - v[f]) for f in fields)
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
                    "inputs": len(inputs),
                }
            )
        results.append(
            {
                "name": m["name"],
                "hash": h,
                "scale": m["scale"],
                "tolerance": tolerance,
                "tolerance_source": source,
                "classifier": classifier,
                "fields": fields or ["class"],
                "inputs": len(inputs),
                "comparisons": sum(hist.values()),
                "hist": sorted(hist.items()),
                "flips": flips,
                "per_pair": per_pair,
            }
        )

    with open(a.out, "w") as f:
        f.write(render(meta, [label for label, _ in runs], results))
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


def render(meta, labels, results):
    """The generated Rust file."""
    L = []
    w = L.append
    w("//! Measured spread of honest answers: how far the quantised outputs that operators reveal")
    w("//! on chain differ between separate processes and CPU code paths on the same inputs.")
    w("//!")
    w(f"//! Generated by scripts/measure-spread.sh on {meta['date']}; do not edit by hand.")
    w(f"//! - CPU: {meta['cpu']} ({meta['cores']} cores; AVX-512: {meta['avx512']})")
    w(f"//! - runs compared pairwise (one process each): {', '.join(labels)}")
    w(f"//! - inputs: {meta['windows']} windows spread evenly over {meta['bars']} hourly BTC/USD bars;")
    w("//!   for the text model, the fixed texts `noderr-ml check` classifies (one comparison per")
    w("//!   distinct text)")
    w(f"//! - tool: {meta['tool']}")
    w("//!")
    w("//! Regression models: the largest absolute difference over the revealed fields of one")
    w("//! input, per pair of runs. Classifiers reveal the class only: `class_flips` counts the")
    w("//! comparisons whose classes differ, and `diffs` holds the largest absolute difference")
    w("//! over the quantised class probabilities.")
    w("//!")
    w("//! Per pair of runs (largest difference; inputs that differ / inputs; class flips):")
    for r in results:
        for i, line in enumerate(wrap(f"{r['name']} ({', '.join(r['fields'])}):", 92)):
            w(("//! - " if i == 0 else "//!   ") + line)
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
            f"{r['name']}: largest difference {largest} (tolerance {r['tolerance']}, scale "
            f"{r['scale']}), {within}/{r['comparisons']} comparisons within tolerance"
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


if __name__ == "__main__":
    main()
