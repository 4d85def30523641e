#!/usr/bin/env bash
# The full-size engine benchmark on one CUDA GPU, in one command (about 6-8 minutes on an H100):
#   1. builds a ContentV-8B-shaped random-weight folder (~27 GB, on the GPU, written shard by shard; ~1 minute)
#      under $BENCH_WORKDIR (default: the system temp folder; it needs ~30 GB free) and deletes it afterwards;
#   2. runs each configuration through the Engine in a fresh process (768x432, 125 frames, 3 steps): all on GPU
#      (+ the official algorithm on the same weights), model offload + tiling, streamed, streamed + int8 + tiling,
#      sequential + int8 + tiling, and the step-cache levels and compile where the speed options exist;
#   3. writes bench/results/engine-<gpu name>-full.json and .md.
# Extra arguments go to bench/full_bench.py, e.g. --configs "all on GPU,streamed" or --model /path/to/ContentV-8B.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
args=(--scale full --device cuda --timeout 240)
if [ -n "${BENCH_WORKDIR:-}" ]; then args+=(--workdir "$BENCH_WORKDIR"); fi
exec "$PYTHON" -m bench.full_bench "${args[@]}" "$@"
