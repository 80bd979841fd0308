#!/usr/bin/env python3
"""Write hidden function cases: private/standardize_cases.json and private/fisher_cases.json.

The expected values are what the reference solution (submissions/full/classifier.py) returns.
standardize: z-scores with the population standard deviation, all 0.0 when the std is 0.
fisher_weights: w = (S_s + S_b)^-1 (mu_s - mu_b), with population covariances, scaled to unit
Euclidean length. Compare element-wise with a tolerance (suggested: absolute 1e-6).

Usage (from grading-specs/signal-background/):  python3 tools/make_cases.py
"""

import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "submissions", "full"))
import classifier  # noqa: E402  (the reference solution)

FEATURES = ["m_vis", "pt_lead", "delta_phi", "isolation", "met"]


def train_rows():
    with open(os.path.join(ROOT, "public", "train.csv"), newline="") as f:
        return list(csv.DictReader(f))


def standardize_cases(rows):
    args = [
        [1, 2, 3, 4, 5],                        # integers: [-1.414.., -0.707.., 0, 0.707.., 1.414..]
        [2.5, 2.5, 2.5],                        # zero spread: all 0.0
        [-3.0, 7.0],                            # two values: [-1, 1]
        [float(r["met"]) for r in rows[:40]],   # a real column
    ]
    return [{"args": [a], "expect": classifier.standardize(a)} for a in args]


def fisher_cases(rows):
    # a hand-sized 2-d example: the classes differ in x only, y is a correlated nuisance
    sig = [[2.0, 1.0], [3.0, 2.5], [2.5, 0.5], [3.5, 2.0]]
    bkg = [[0.0, 0.5], [1.0, 2.0], [0.5, 0.0], [1.5, 1.5], [1.0, 1.0]]
    cases = [(sig, bkg)]
    # 150 training events, raw (unstandardized) features
    sub = rows[:150]
    sig = [[float(r[k]) for k in FEATURES] for r in sub if r["label"] == "1"]
    bkg = [[float(r[k]) for k in FEATURES] for r in sub if r["label"] == "0"]
    cases.append((sig, bkg))
    return [{"args": [s, b], "expect": classifier.fisher_weights(s, b)} for s, b in cases]


def dump_cases(path, cases):
    with open(path, "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, separators=(", ", ": ")) for c in cases))
        f.write("\n]\n")


def main():
    rows = train_rows()
    sc = standardize_cases(rows)
    fc = fisher_cases(rows)
    dump_cases(os.path.join(ROOT, "private", "standardize_cases.json"), sc)
    dump_cases(os.path.join(ROOT, "private", "fisher_cases.json"), fc)
    for c in sc + fc:
        print(len(c["args"][0]), "->", [round(x, 6) for x in c["expect"]][:6])


if __name__ == "__main__":
    main()
