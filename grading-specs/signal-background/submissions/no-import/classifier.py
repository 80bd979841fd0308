"""Signal versus background (does not compile: an unterminated string and a stray bracket)."""

import csv
import sys


def standardize(values):
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
    return [(v - mean) / std for v in values]]


def fisher_weights(signal_rows, background_rows):
    return [1.0] * len(signal_rows[0])


def main():
    with open(sys.argv[2], newline="") as f:
        test = list(csv.DictReader(f))
    with open(sys.argv[3], "w") as f:
        f.write("id,score\n)
        for r in test:
            f.write(f"{r['id']},{r['m_vis']}\n")


if __name__ == "__main__":
    main()
