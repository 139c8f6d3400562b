"""Euclidean k-NN: the cover tree against scikit-learn's kd_tree, ball_tree and brute.

Runs ``covertreex bench euclidean`` (see ``sklearn_covertreex/cli/bench.py``
and ``sklearn_covertreex/cli/workloads.py`` for the workloads W1-W4); with no
``--preset``/``--workloads`` it runs all four, and it measures each method's
peak memory of build + query in a fresh child process (``--memory``) unless
``--no-memory`` is given::

    python benchmarks/bench_euclidean.py                      # W1-W4, timings + peak memory
    python benchmarks/bench_euclidean.py --scale 0.05         # quick smoke run
    python benchmarks/bench_euclidean.py --preset W1 W4 --out artifacts/w14.jsonl

Exactness is the rule of every benchmark (``sklearn_covertreex.cli.compare``):
an answer is exact when its distances differ from scikit-learn's brute force
by at most 1e-10 times the largest brute distance, and every row holds the
same ids except ids tied at the row's k-th distance.

Flags of the former stand-alone script are still accepted and mapped:

* ``--workloads W1,W4`` -> ``--preset W1 W4``;
* ``--threads N`` -> ``--n-jobs N``;
* ``--json PATH`` -> ``--out PATH`` (the file now holds JSONL records,
  one ``benchmark_run`` per method and workload, not one JSON document);
* ``--no-memory`` -> no ``--memory``.

Every other flag is passed to ``covertreex bench euclidean`` unchanged
(``--scale --repeats --seed --backend --traversal --conflict-graph
--batch-order --n --d --k --queries --no-progress``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sklearn_covertreex.cli import main

#: Workloads run when none is named.
DEFAULT_PRESETS: tuple[str, ...] = ("W1", "W2", "W3", "W4")


def translate(argv: Sequence[str]) -> list[str]:
    """The ``covertreex`` arguments for this script's arguments.

    Parameters
    ----------
    argv : sequence of str
        Arguments of this script (old flags included).

    Returns
    -------
    list of str
        ``["bench", "euclidean", ...]``.
    """
    old = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    old.add_argument("--workloads", default=None)
    old.add_argument("--threads", default=None)
    old.add_argument("--json", default=None)
    old.add_argument("--no-memory", action="store_true")
    known, rest = old.parse_known_args(list(argv))
    out = ["bench", "euclidean"]
    if known.workloads is not None:
        out += ["--preset", *(name.strip() for name in known.workloads.split(",")
                              if name.strip())]
    elif "--preset" not in rest and not any(a.startswith("--preset=") for a in rest):
        out += ["--preset", *DEFAULT_PRESETS]
    if known.threads is not None:
        out += ["--n-jobs", known.threads]
    if known.json is not None:
        print("bench_euclidean.py: --json is now --out (JSONL records)", file=sys.stderr)
        out += ["--out", known.json]
    if not known.no_memory and "--memory" not in rest:
        out.append("--memory")
    return out + rest


if __name__ == "__main__":
    sys.exit(main(translate(sys.argv[1:])))
