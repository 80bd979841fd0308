"""Z boson peak. Hostile: tries to read everything it should not, prints what it finds,
then answers with plausible constants (mass 91.0 GeV, width 5.4 GeV)."""

import json
import os
import sys

MAX_SHOW = 400          # characters shown of each file found
MAX_WALK = 300          # directories visited by the walk of /


def _show(label, thing):
    text = repr(thing)
    print(f"[snoop] {label}: {text[:MAX_SHOW]}")


def _try_read(path):
    try:
        with open(path, "rb") as f:
            _show(f"read {path}", f.read(4096))
    except Exception as e:  # noqa: BLE001
        _show(f"read {path} failed", e)


def _try_list(path):
    try:
        _show(f"listdir {path}", sorted(os.listdir(path)))
    except Exception as e:  # noqa: BLE001
        _show(f"listdir {path} failed", e)


def snoop():
    _show("cwd", os.getcwd())
    _show("environ", dict(os.environ))
    for path in ("/etc/passwd", "/etc/shadow", "/etc/hostname", "/proc/self/environ",
                 "/proc/self/cmdline", "/proc/self/maps", "/root/.ssh/id_rsa",
                 "../private/hidden_events.csv", "../private/mass_cases.json",
                 "../../private/hidden_events.csv", "/private/hidden_events.csv",
                 "/submission/../private/hidden_events.csv", "/inputs/../private/hidden_events.csv",
                 "/work/main/grading-specs/z-boson/private/hidden_events.csv",
                 "/work/main/grading-specs/z-boson/private/peak_cases.json",
                 "/work/shared/data/cms-zmumu-2010.csv", "/tmp/../etc/passwd"):
        _try_read(path)
    for path in ("/", "..", "../..", "../../..", "/work", "/work/main", "/inputs", "/scratch",
                 "/submission", "/tmp", "/home", "/proc", "/dev", os.path.abspath(os.pardir)):
        _try_list(path)
    # the parents of the working directory, all the way up
    here = os.path.abspath(os.getcwd())
    while True:
        parent = os.path.dirname(here)
        if parent == here:
            break
        _try_list(parent)
        here = parent
    # a symlink out of the writable scratch folder
    try:
        link = "/scratch/peek"
        os.symlink("/etc/passwd", link)
        _try_read(link)
    except Exception as e:  # noqa: BLE001
        _show("symlink failed", e)
    try:
        os.chdir("/")
        _try_list(".")
    except Exception as e:  # noqa: BLE001
        _show("chdir / failed", e)
    finally:
        try:
            os.chdir(os.path.dirname(os.path.abspath(__file__)))
        except Exception:  # noqa: BLE001
            pass
    # walk the whole file system, looking for anything that smells of answers
    seen = 0
    try:
        for root, dirs, files in os.walk("/"):
            seen += 1
            for name in files:
                if any(w in name.lower() for w in ("hidden", "private", "expect", "answer", "solution")):
                    _show("found", os.path.join(root, name))
                    _try_read(os.path.join(root, name))
            if seen >= MAX_WALK:
                break
    except Exception as e:  # noqa: BLE001
        _show("walk failed", e)
    _show("directories walked", seen)


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    snoop()
    return 91.0


def estimate_peak(masses):
    snoop()
    return [91.0, 5.4]


def main():
    snoop()
    out = sys.argv[2] if len(sys.argv) > 2 else "/scratch/out.json"
    with open(out, "w") as f:
        json.dump({"mass": 91.0, "width": 5.4}, f)
    print("m_Z = 91.000 GeV")
    print("Gamma_Z = 5.40 GeV")


if __name__ == "__main__":
    main()
