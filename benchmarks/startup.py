"""Figure 7: how fast the `twin` command starts (`twin --help`, `twin info`), against the
same interpreter importing what the command used to import at start (Scrapy,
qdrant-client, fastembed), measured in the same run. Target: under 1 s.

    python -m benchmarks.startup [--runs N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EAGER_IMPORTS = "import scrapy.crawler, qdrant_client, fastembed"


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def figure_startup(runs: int = 5) -> dict[str, Any]:
    """Median seconds of each command over `runs` runs (after one warm-up run each)."""
    twin = [sys.executable, "-m", "twin_scraper.cli"]
    with tempfile.TemporaryDirectory(prefix="twin-startup-") as data_dir:
        env = {**os.environ, "TWIN_DATA_DIR": data_dir, "MONGODB_URI": ""}
        commands = {
            "help": [*twin, "--help"],
            "info": [*twin, "info"],
            "eager_imports": [sys.executable, "-c", EAGER_IMPORTS],
        }
        medians = {}
        for name, command in commands.items():
            timed(command, env)  # warm the file cache: every run then starts alike
            medians[name] = statistics.median(timed(command, env) for _ in range(runs))
    return {
        "runs": runs,
        "help_seconds": medians["help"],
        "info_seconds": medians["info"],
        "eager_imports_seconds": medians["eager_imports"],
        "ratio": medians["help"] / medians["eager_imports"],
        "met": medians["help"] < 1.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figure = figure_startup(args.runs)
    print(
        f"twin --help {figure['help_seconds']:.2f} s, twin info {figure['info_seconds']:.2f} s; "
        f"importing {EAGER_IMPORTS.removeprefix('import ')}: "
        f"{figure['eager_imports_seconds']:.2f} s ({figure['ratio']:.2f}x); "
        f"target < 1 s: {'met' if figure['met'] else 'MISSED'}"
    )
    if args.out:
        args.out.write_text(json.dumps(figure, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
