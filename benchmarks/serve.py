"""Serve a directory with `SiteServer` in its own process, so the server's threads never
compete with the measured crawler for its interpreter lock.

    python -m benchmarks.serve ROOT [--latency 0.2]

Prints the server's origin on the first line of stdout, then serves until stdin closes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin_scraper.demo.server import SiteServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added per request")
    args = parser.parse_args(argv)
    with SiteServer(args.root, latency=args.latency) as server:
        print(server.base, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
