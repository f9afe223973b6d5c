#!/usr/bin/env bash
# Set everything up, then crawl the bundled sample blog and search it (`twin demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/twin demo "$@"
