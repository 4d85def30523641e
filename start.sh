#!/usr/bin/env bash
# Set up (first run only) and start ContentV Studio. Arguments go to main.py, e.g. ./start.sh --model DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/bootstrap.sh runtime
exec .venv/bin/python main.py "$@"
