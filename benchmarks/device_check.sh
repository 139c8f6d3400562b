#!/usr/bin/env bash
# One short GPU check (under 5 minutes on one H200 with 16 cores, no internet).
#
#   bash benchmarks/device_check.sh            # records under $OUT (default: ./artifacts/device)
#   WHEELS=/path/to/wheels bash benchmarks/device_check.sh
#
# 1. reports what the machine has (GPU, python, numpy/scipy/sklearn/numba, jax with a GPU
#    device, cupy) and what is missing; installs missing GPU extras from a local wheel
#    folder ($WHEELS, else ./wheels, else /wheels) when one is there (pip --no-index);
# 2. installs this package (editable, no dependencies fetched; else imports the checkout);
# 3. runs the GPU tests (jax and cupy parametrisations, the CUDA tree kernels of tests/gpu;
#    they skip without a device);
# 4. runs the benchmarks with --backend jax and --backend cupy:
#      euclidean W1 (n=1M, d=3, 100k queries, k=16) and W2 (d=8), beside numba and kd_tree,
#      residual gold;
#    each step under its own timeout, so the whole script stays under 5 minutes.
# Every step appends one JSON line to $OUT/device_check.jsonl (step, status, seconds, note);
# the benchmarks write their own JSONL records under $OUT too.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-artifacts/device}"
mkdir -p "$OUT"
LOG="$OUT/device_check.jsonl"
PY="${PYTHON:-python3}"
START=$(date +%s)
DEADLINE=$(( START + ${BUDGET_S:-285} ))   # every step is cut to what is left of this

record() {  # record STEP STATUS SECONDS NOTE
    local note=${4//\"/\'}
    printf '{"schema": "device_check", "step": "%s", "status": "%s", "seconds": %s, "note": "%s"}\n' \
        "$1" "$2" "$3" "${note//$'\n'/ }" >> "$LOG"
    echo "[device_check] $1: $2 (${3}s) $4"
}

step() {  # step NAME TIMEOUT_S COMMAND...
    local name=$1 limit=$2
    shift 2
    local t0 rc left
    t0=$(date +%s)
    left=$(( DEADLINE - t0 ))
    if [ "$left" -lt 10 ]; then record "$name" skipped 0 "no time left in the budget"; return 0; fi
    if [ "$limit" -gt "$left" ]; then limit=$left; fi
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    local dt=$(( $(date +%s) - t0 ))
    if [ $rc -eq 0 ]; then record "$name" ok "$dt" "";
    elif [ $rc -eq 124 ]; then record "$name" timeout "$dt" "over ${limit}s, see $OUT/$name.log";
    else record "$name" failed "$dt" "exit $rc: $(tail -n 3 "$OUT/$name.log" | tr -d '"' | cut -c1-300)"; fi
    return 0
}

have() { "$PY" -c "import $1" > /dev/null 2>&1; }

# ---------------------------------------------------------------- 1. what is here
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1)
record gpu "$([ -n "$GPU" ] && echo ok || echo missing)" 0 "${GPU:-no nvidia-smi or no GPU}"
record python ok 0 "$($PY --version 2>&1) cores=$(nproc)"
WHEELS="${WHEELS:-}"
for cand in ./wheels /wheels; do
    if [ -z "$WHEELS" ] && [ -d "$cand" ]; then WHEELS=$cand; fi
done
MISSING=""
for mod in numpy scipy sklearn numba pytest; do
    have "$mod" || MISSING="$MISSING $mod"
done
have jax || MISSING="$MISSING jax"
have cupy || MISSING="$MISSING cupy"
have numba_cuda || MISSING="$MISSING numba_cuda"
if [ -n "$MISSING" ] && [ -n "$WHEELS" ]; then
    # the extras as pip names; only what the wheel folder holds gets installed
    step install_missing 120 "$PY" -m pip install --no-index --find-links "$WHEELS" \
        numpy scipy scikit-learn numba pytest hypothesis pandas "jax[cuda12]" cupy-cuda12x \
        "numba-cuda[cu12]"
    MISSING=""
    for mod in numpy scipy sklearn numba pytest jax cupy numba_cuda; do have "$mod" || MISSING="$MISSING $mod"; done
fi
record modules "$([ -z "$MISSING" ] && echo ok || echo missing)" 0 \
    "missing:${MISSING:- none}; wheel folder: ${WHEELS:-none (set WHEELS=...)}"
JAXDEV=$("$PY" -c "import jax; print(','.join(d.platform for d in jax.devices()))" 2>/dev/null)
record jax_devices "$(echo "$JAXDEV" | grep -q gpu && echo ok || echo no-gpu)" 0 "${JAXDEV:-jax not importable}"
CUPYDEV=$("$PY" -c "import cupy; print(cupy.cuda.runtime.getDeviceCount())" 2>/dev/null)
record cupy_devices "$([ "${CUPYDEV:-0}" -gt 0 ] 2>/dev/null && echo ok || echo no-gpu)" 0 \
    "${CUPYDEV:-cupy not importable}"
NBCUDA=$("$PY" -c "from numba import cuda; print(cuda.is_available())" 2>/dev/null)
record numba_cuda "$([ "$NBCUDA" = True ] && echo ok || echo no-gpu)" 0 \
    "numba.cuda.is_available(): ${NBCUDA:-numba not importable} (the cupy tree kernels need it)"
if ! have numpy || ! have sklearn || ! have numba; then
    record abort failed $(( $(date +%s) - START )) "the package's own dependencies are missing"
    exit 1
fi

# ---------------------------------------------------------------- 2. this package
step install_package 90 "$PY" -m pip install --no-index --no-deps --no-build-isolation -e .
# the package is pure python (numba compiles at run time): where the editable install
# cannot build (no `wheel` offline, as in a CPU dry run), the checkout itself is imported
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
have sklearn_covertreex || { record abort failed $(( $(date +%s) - START )) \
    "sklearn_covertreex is not importable from $PWD"; exit 1; }
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-/tmp/nbcache-device}"   # this script's own process only

# ---------------------------------------------------------------- 3. GPU tests
step tests_gpu 120 "$PY" -m pytest -q -x -p no:cacheprovider \
    tests/test_kernels.py tests/test_residual.py tests/test_array_api.py \
    -k "jax or cupy or array_backend"
# the cupy backend's CUDA kernels on the device (the same tests CI runs under the simulator)
step tests_cuda_kernels 90 "$PY" -m pytest -q -x -p no:cacheprovider tests/gpu

# ---------------------------------------------------------------- 4. benchmarks
BENCH=("$PY" -m sklearn_covertreex bench)
for backend in jax cupy; do
    step "euclidean_W1_$backend" 75 "${BENCH[@]}" euclidean --preset W1 --n 1000000 \
        --queries 100000 --k 16 --backend "$backend" --methods covertree kd_tree \
        --no-progress --out "$OUT/bench_euclidean.jsonl"
    step "euclidean_W2_$backend" 45 "${BENCH[@]}" euclidean --preset W2 --n 1000000 \
        --queries 100000 --k 16 --backend "$backend" --methods covertree kd_tree \
        --no-progress --out "$OUT/bench_euclidean.jsonl"
    step "residual_gold_$backend" 40 "${BENCH[@]}" residual --preset gold --backend "$backend" \
        --out "$OUT/bench_residual.jsonl"
done
step euclidean_W1_numba 40 "${BENCH[@]}" euclidean --preset W1 --n 1000000 --queries 100000 \
    --k 16 --backend numba --methods covertree --no-progress --out "$OUT/bench_euclidean.jsonl"
record total ok $(( $(date +%s) - START )) "records in $OUT"
