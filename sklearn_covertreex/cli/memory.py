"""Peak memory of one method's build + query, measured in a fresh child process.

``covertreex bench euclidean --memory`` runs, for every workload and method,
one ``spawn`` child (a new interpreter, nothing inherited but the arguments)
that imports the libraries, generates the workload's data, warms the method
up on tiny data (numba compilation and imports are not counted), then builds
and queries once. The reported number is the peak resident set size during
that build + query minus the resident set size just before it (the data and
the warm-up already resident): the memory the method itself needs.

On Linux the peak is ``VmHWM`` of ``/proc/self/status``, reset just before
the build through ``/proc/self/clear_refs`` (after glibc's ``malloc_trim``
has returned the warm-up's freed heap to the system, so reused heap pages do
not hide new memory); elsewhere it is ``ru_maxrss``, which cannot be reset,
so the warm-up's peak may hide a smaller one. The children start before the
parent process generates any data.
"""

from __future__ import annotations

import gc
import resource
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..runtime import Runtime
from .errors import CliError, one_line
from .workloads import Workload, make_data

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(key: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``None`` off Linux)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def current_rss_mib() -> float | None:
    """Resident set size of this process now, in MiB (``None`` off Linux).

    Returns
    -------
    float or None
    """
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024.0


def release_free_heap() -> bool:
    """Return freed heap memory to the system (glibc ``malloc_trim(0)``; else nothing).

    Returns
    -------
    bool
        Whether ``malloc_trim`` was called.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


def reset_peak() -> bool:
    """Reset this process's peak-RSS mark to its current RSS (Linux 4.0+).

    Returns
    -------
    bool
        Whether the reset worked (else :func:`peak_rss_mib` keeps older peaks).
    """
    try:
        with _CLEAR_REFS.open("w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB.

    Returns
    -------
    float
        ``VmHWM`` on Linux, else ``ru_maxrss``.
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib / 1024.0
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return raw / 2.0**20 if sys.platform == "darwin" else raw / 1024.0


def peak_memory_child(method: str, workload: Workload, seed: int,
                      runtime: Runtime) -> dict[str, Any]:
    """Build and query once with ``method``; its peak memory (runs in a spawned child).

    Parameters
    ----------
    method : str
        ``"covertree"`` or a scikit-learn algorithm.
    workload : Workload
        The (scaled) workload; its data are generated here.
    seed : int
    runtime : Runtime
        Its ``n_jobs`` is the thread count.

    Returns
    -------
    dict
        ``peak_memory_mib`` (peak RSS of build + query minus the RSS before),
        ``baseline_rss_mib``, ``reset`` (whether the peak mark was reset) and
        the child's ``build_seconds`` and ``query_seconds``.
    """
    from .compare import run_method, warm_up

    X, Q = make_data(workload, seed)
    warm_up(runtime, workload.d, workload.k, (method,))
    gc.collect()
    release_free_heap()
    reset = reset_peak()
    baseline = current_rss_mib() if reset else None
    if baseline is None:
        baseline = peak_rss_mib()
    result = run_method(method, X, Q, workload.k, runtime, evaluations=False)
    peak = peak_rss_mib()
    return {"peak_memory_mib": max(peak - baseline, 0.0), "baseline_rss_mib": baseline,
            "reset": reset, "build_seconds": result.build_s, "query_seconds": result.query_s}


def measure_memory(workloads: Sequence[Workload], methods: Sequence[str], seed: int,
                   runtime: Runtime, log: Callable[[str], None] = lambda message: None
                   ) -> dict[tuple[str, str], float]:
    """Peak memory of every method on every workload, one fresh child process each.

    Parameters
    ----------
    workloads : sequence of Workload
    methods : sequence of str
    seed : int
    runtime : Runtime
    log : callable
        Called with one line per child.

    Returns
    -------
    dict
        ``(workload name, method) -> peak MiB`` (see :func:`peak_memory_child`).

    Raises
    ------
    CliError
        If a child fails (its error is named).
    """
    context = get_context("spawn")
    out: dict[tuple[str, str], float] = {}
    for w in workloads:
        for method in methods:
            log(f"[{w.name}] {method}: peak memory in a fresh process")
            try:
                with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                    child = pool.submit(peak_memory_child, method, w, seed, runtime).result()
            except Exception as exc:  # a child's error or a killed child: name it, one line
                raise CliError(f"peak-memory child of {method} on {w.name} failed: "
                               f"{type(exc).__name__}: {one_line(exc)}") from None
            out[w.name, method] = float(child["peak_memory_mib"])
    return out


def memory_of(memory: Mapping[tuple[str, str], float] | None,
              workload: str) -> dict[str, float] | None:
    """``method -> peak MiB`` of one workload, or ``None`` without measurements."""
    if memory is None:
        return None
    return {method: mib for (name, method), mib in memory.items() if name == workload}
