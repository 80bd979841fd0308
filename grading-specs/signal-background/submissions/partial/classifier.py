"""Signal versus background: scores with the single most useful feature, the visible mass."""

import csv
import math
import sys


def standardize(values):
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    if std == 0:
        return [0.0] * n
    return [(v - mean) / std for v in values]


def fisher_weights(signal_rows, background_rows):
    # Ignores the covariance: just the difference of the class means, scaled to unit length.
    d = len(signal_rows[0])
    diff = [sum(r[j] for r in signal_rows) / len(signal_rows)
            - sum(r[j] for r in background_rows) / len(background_rows) for j in range(d)]
    norm = math.sqrt(sum(x * x for x in diff))
    return [x / norm for x in diff]


def main():
    with open(sys.argv[2], newline="") as f:
        test = list(csv.DictReader(f))
    with open(sys.argv[3], "w", newline="") as f:
        f.write("id,score\n")
        for row in test:
            f.write(f"{row['id']},{row['m_vis']}\n")   # the Higgs is heavier than the Z


if __name__ == "__main__":
    main()
