"""Z boson peak. Hostile: every entry point allocates ever larger buffers until it dies."""

import json
import sys


def _hog():
    hoard = []
    size = 1 << 20                       # 1 MiB, doubling
    while True:
        hoard.append(bytearray(size))
        size *= 2


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    _hog()
    return 91.0


def estimate_peak(masses):
    _hog()
    return [91.0, 2.5]


def main():
    hoard = []
    size = 1 << 20
    while True:
        hoard.append(bytearray(size))
        size *= 2
    with open(sys.argv[2], "w") as f:
        json.dump({"mass": 91.0, "width": 2.5}, f)


if __name__ == "__main__":
    main()
