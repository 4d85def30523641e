#!/usr/bin/env bash
# The full-size engine benchmark on one CUDA GPU, in one command of at most 8 minutes on an H100:
#   1. builds a ContentV-8B-shaped random-weight folder (~27 GB, on the GPU, written shard by shard; ~1 minute)
#      under $BENCH_WORKDIR (default: the system temp folder; it needs ~30 GB free) and deletes it afterwards;
#   2. runs each configuration through the Engine in a fresh process (768x432, 125 frames, 3 steps): all on GPU
#      (+ the official algorithm on the same weights), model offload + tiling, streamed, streamed + int8 + tiling,
#      sequential + int8 + tiling; each prints its figures as it finishes, and the report is rewritten after each;
#   3. writes engine-<gpu name>-full.json and .md into the output folder (first argument, e.g. "$OUT"; default
#      bench/results).
# The configurations share a budget (BENCH_BUDGET_S, default 390 s after the build): one that cannot start in
# time is reported as skipped rather than overrunning. Extra arguments go to bench/full_bench.py, e.g.
#   bench/run_full.sh "$OUT" --set speed        # batched guidance, fast/faster cache, compile (8 steps)
#   bench/run_full.sh "$OUT" --model /path/to/ContentV-8B
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
out=bench/results
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out=$1; shift; fi
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
args=(--scale full --device cuda --out "$out" --timeout 180 --budget "${BENCH_BUDGET_S:-390}")
if [ -n "${BENCH_WORKDIR:-}" ]; then args+=(--workdir "$BENCH_WORKDIR"); fi
exec "$PYTHON" -m bench.full_bench "${args[@]}" "$@"
