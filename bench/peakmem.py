"""Peak resident memory of one fit, fastmlp beside scikit-learn, each in a fresh
process.

    python bench/peakmem.py                  # W3 (60,000 x 784, float32)
    python bench/peakmem.py --workload W1 --scale 0.5

Each contender runs in its own interpreter: it builds the workload's data, notes
its resident set (the baseline: interpreter, libraries, data), resets the kernel's
high-water mark (Linux ``/proc/self/clear_refs``), fits, and reports the peak
resident set during the fit (``VmHWM``). The table gives both peaks, the growth over
the baseline, and the size of X. A warm-up fit on 200 rows runs before the
baseline in the fastmlp process, so Numba's compiled code is in the baseline for
both (scikit-learn needs none).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, warnings
sys.path.insert(0, {bench!r})
import numpy as np
from workloads import WORKLOADS
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)
w = WORKLOADS[{key!r}]
if {who!r} == "fastmlp":
    import fastmlp as lib
else:
    import sklearn.neural_network as lib
cls = lib.MLPClassifier if w.task == "clf" else lib.MLPRegressor
X, _, y, _ = w.data({scale!r})
if {who!r} == "fastmlp":
    cls(**w.params(epochs=1)).fit(X[:200], y[:200])

def status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
base = status_mb("VmRSS")
# Reset the high-water mark (VmHWM): building the data (float64, then cast) peaks
# far above the fit, and ru_maxrss would report that peak for both contenders.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
cls(**w.params()).fit(X, y)
peak = status_mb("VmHWM")
print(json.dumps(dict(base=base, peak=peak, x_mb=X.nbytes / 2**20)))
"""


def measure(who, key, scale):
    code = CHILD.format(bench=str(Path(__file__).parent), key=key, who=who, scale=scale)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="W3")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    rows = {
        who: measure(who, args.workload, args.scale) for who in ("fastmlp", "sklearn")
    }
    print(
        f"\n{args.workload} at scale {args.scale}: X is {rows['fastmlp']['x_mb']:.0f} MiB\n"
    )
    print("| contender | baseline MiB | peak MiB | growth during fit MiB |")
    print("|---|---|---|---|")
    for who, r in rows.items():
        print(
            f"| {who} | {r['base']:.0f} | {r['peak']:.0f} | {r['peak'] - r['base']:.0f} |"
        )
    f, s = rows["fastmlp"], rows["sklearn"]
    print(
        f"\nfastmlp / scikit-learn: peak {f['peak'] / s['peak']:.2f}x, "
        f"growth {(f['peak'] - f['base']) / max(1e-9, s['peak'] - s['base']):.2f}x"
    )


if __name__ == "__main__":
    main()
