"""Signal versus background, with the sign of the discriminant flipped."""

import csv
import math
import sys


def standardize(values):
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    return [(v - mean) / var for v in values]          # divides by the variance, not the std


def solve(a, b):
    d = len(b)
    m = [list(a[i]) + [b[i]] for i in range(d)]
    for col in range(d):
        piv = max(range(col, d), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, d):
            f = m[r][col] / m[col][col]
            for c in range(col, d + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * d
    for r in range(d - 1, -1, -1):
        x[r] = (m[r][d] - sum(m[r][c] * x[c] for c in range(r + 1, d))) / m[r][r]
    return x


def fisher_weights(signal_rows, background_rows):
    d = len(signal_rows[0])
    mu_s = [sum(r[j] for r in signal_rows) / len(signal_rows) for j in range(d)]
    mu_b = [sum(r[j] for r in background_rows) / len(background_rows) for j in range(d)]
    within = [[0.0] * d for _ in range(d)]
    for rows, mu in ((signal_rows, mu_s), (background_rows, mu_b)):
        for r in rows:
            for i in range(d):
                for j in range(d):
                    within[i][j] += (r[i] - mu[i]) * (r[j] - mu[j]) / len(rows)
    w = solve(within, [b - s for s, b in zip(mu_s, mu_b)])   # background minus signal: inverted
    norm = math.sqrt(sum(x * x for x in w))
    return [x / norm for x in w]


def main():
    with open(sys.argv[1], newline="") as f:
        train = list(csv.DictReader(f))
    with open(sys.argv[2], newline="") as f:
        test = list(csv.DictReader(f))
    names = [k for k in train[0] if k not in ("id", "label")]
    sig = [[float(r[k]) for k in names] for r in train if r["label"] == "1"]
    bkg = [[float(r[k]) for k in names] for r in train if r["label"] == "0"]
    w = fisher_weights(sig, bkg)
    with open(sys.argv[3], "w", newline="") as f:
        f.write("id,score\n")
        for r in test:
            f.write(f"{r['id']},{sum(wi * float(r[k]) for wi, k in zip(w, names))}\n")


if __name__ == "__main__":
    main()
