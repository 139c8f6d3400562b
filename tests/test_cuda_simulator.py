"""The cupy backend's CUDA kernels, run on the CPU under numba's CUDA simulator.

The simulator is switched on by ``NUMBA_ENABLE_CUDASIM=1`` before numba is
imported, so ``tests/gpu`` runs in a subprocess with it set; there each
simulated GPU thread runs the kernels' Python code, so the subprocess
checks the kernels' logic (answers, overflow reruns, invariants of the
trees they build), not their speed. On a GPU machine ``tests/gpu`` also
runs directly, on the device.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_cuda_kernels_pass_under_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    # the simulator wraps uint64 hashing (numpy scalars) with overflow warnings the GPU never sees
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
           "ignore::RuntimeWarning", str(Path(__file__).parent / "gpu")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200,
                          cwd=Path(__file__).parent.parent)
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " skipped" not in proc.stdout, tail
