"""Signal versus background. Hostile: looks for the hidden test labels and, if it finds them,
returns them as scores; otherwise falls back to random scores."""

import csv
import os
import random
import sys

MAX_WALK = 300           # directories visited by the walk of /


def standardize(values):
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
    return [(v - mean) / std if std else 0.0 for v in values]


def fisher_weights(signal_rows, background_rows):
    return [1.0] + [0.0] * (len(signal_rows[0]) - 1)


def _labels_from(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        labels = {r["id"]: float(r["label"]) for r in rows}
        print(f"[peek] read {len(labels)} labels from {path}")
        return labels
    except Exception as e:  # noqa: BLE001
        print(f"[peek] {path}: {e!r}")
        return None


def find_labels():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = ["/inputs/test_labels.csv", "/inputs/labels.csv", "../private/test_labels.csv",
                  "../../private/test_labels.csv", "/private/test_labels.csv",
                  "/submission/../private/test_labels.csv", "/inputs/../private/test_labels.csv",
                  os.path.join(here, "..", "..", "private", "test_labels.csv"),
                  "/work/main/grading-specs/signal-background/private/test_labels.csv"]
    for path in candidates:
        labels = _labels_from(path)
        if labels:
            return labels
    for path in ("/inputs", "/", "..", "../.."):
        try:
            print(f"[peek] listdir {path}: {sorted(os.listdir(path))[:50]}")
        except Exception as e:  # noqa: BLE001
            print(f"[peek] listdir {path}: {e!r}")
    seen = 0
    try:
        for root, dirs, files in os.walk("/"):
            seen += 1
            for name in files:
                if "label" in name.lower():
                    labels = _labels_from(os.path.join(root, name))
                    if labels:
                        return labels
            if seen >= MAX_WALK:
                break
    except Exception as e:  # noqa: BLE001
        print(f"[peek] walk: {e!r}")
    print(f"[peek] nothing found after {seen} directories")
    return None


def main():
    with open(sys.argv[2], newline="") as f:
        test = list(csv.DictReader(f))
    labels = find_labels()
    rng = random.Random(0)
    with open(sys.argv[3], "w", newline="") as f:
        f.write("id,score\n")
        for r in test:
            score = labels.get(r["id"], 0.5) if labels else rng.random()
            f.write(f"{r['id']},{score}\n")


if __name__ == "__main__":
    main()
