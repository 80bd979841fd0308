"""Signal versus background with a Fisher linear discriminant (reference solution)."""

import csv
import math
import sys


def standardize(values):
    """z-scores (x - mean) / std with the population standard deviation; all 0.0 if std == 0."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return []
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / n
    if var <= 0.0:
        return [0.0] * n
    std = math.sqrt(var)
    return [(v - mean) / std for v in values]


def _mean(rows):
    n = len(rows)
    return [math.fsum(r[j] for r in rows) / n for j in range(len(rows[0]))]


def _covariance(rows, mean):
    """Population covariance matrix (divide by n)."""
    n, d = len(rows), len(mean)
    centered = [[r[j] - mean[j] for j in range(d)] for r in rows]
    return [[math.fsum(c[i] * c[j] for c in centered) / n for j in range(d)] for i in range(d)]


def solve(a, b):
    """Solve a x = b (a square, list of lists) by Gaussian elimination with partial pivoting."""
    d = len(b)
    m = [list(map(float, a[i])) + [float(b[i])] for i in range(d)]
    for col in range(d):
        piv = max(range(col, d), key=lambda r: abs(m[r][col]))
        if m[piv][col] == 0.0:
            raise ValueError("singular matrix")
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, d):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, d + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * d
    for r in range(d - 1, -1, -1):
        x[r] = (m[r][d] - math.fsum(m[r][c] * x[c] for c in range(r + 1, d))) / m[r][r]
    return x


def fisher_weights(signal_rows, background_rows):
    """Fisher direction w = (S_s + S_b)^-1 (mu_s - mu_b), scaled to unit length.

    signal_rows, background_rows: lists of feature rows (lists of numbers, same order).
    S_s and S_b are the population covariance matrices of the two classes. The result
    points towards the signal: w . x is larger for signal-like x.
    """
    sig = [[float(v) for v in r] for r in signal_rows]
    bkg = [[float(v) for v in r] for r in background_rows]
    mu_s, mu_b = _mean(sig), _mean(bkg)
    cov_s, cov_b = _covariance(sig, mu_s), _covariance(bkg, mu_b)
    d = len(mu_s)
    within = [[cov_s[i][j] + cov_b[i][j] for j in range(d)] for i in range(d)]
    w = solve(within, [mu_s[j] - mu_b[j] for j in range(d)])
    norm = math.sqrt(math.fsum(x * x for x in w))
    return [x / norm for x in w] if norm > 0 else w


def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [row for row in reader if row]


def main(argv):
    if len(argv) != 4:
        print("usage: python classifier.py TRAIN.csv TEST.csv OUT.csv", file=sys.stderr)
        return 2
    train_header, train = read_csv(argv[1])
    test_header, test = read_csv(argv[2])
    features = [h for h in train_header if h not in ("id", "label")]
    label_col = train_header.index("label")
    train_cols = [train_header.index(h) for h in features]
    test_cols = [test_header.index(h) for h in features]
    id_col = test_header.index("id")

    # standardize with the training set's mean and std (the Fisher direction does not
    # depend on it, but it keeps the linear system well conditioned)
    columns = [[float(r[c]) for r in train] for c in train_cols]
    means = [math.fsum(col) / len(col) for col in columns]
    stds = [math.sqrt(math.fsum((v - m) ** 2 for v in col) / len(col)) or 1.0
            for col, m in zip(columns, means)]
    z_train = list(zip(*[standardize(col) for col in columns]))
    labels = [int(float(r[label_col])) for r in train]
    sig = [z for z, y in zip(z_train, labels) if y == 1]
    bkg = [z for z, y in zip(z_train, labels) if y == 0]
    w = fisher_weights(sig, bkg)

    with open(argv[3], "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["id", "score"])
        for r in test:
            z = [(float(r[c]) - m) / s for c, m, s in zip(test_cols, means, stds)]
            out.writerow([r[id_col], repr(sum(wi * zi for wi, zi in zip(w, z)))])
    print("features:", ", ".join(features))
    print("weights: ", ", ".join(f"{x:+.3f}" for x in w))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
