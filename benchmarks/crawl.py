"""One twin_scraper crawl of the benchmark site, as a user runs it, in its own process.

    python -m benchmarks.crawl --site URL --out result.json [--limit N] [--no-embed]
        [--data-dir DIR] [--database NAME] [-s NAME=VALUE ...]

The real `article` spider with `site=` through Scrapy's engine, the project's settings
and pipelines (MongoDB, Qdrant local mode, the offline model). Writes the crawl's stats,
its wall time and the process's peak resident memory to `--out`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from benchmarks.site import AUTHOR
from twin_scraper.config import project_settings
from twin_scraper.spiders.article import ArticleSpider

STATS = (
    "elapsed_time_seconds",
    "item_scraped_count",
    "downloader/request_count",
    "downloader/response_bytes",
    "finish_reason",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", required=True, help="the benchmark site's origin")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--no-embed", dest="embed", action="store_false")
    parser.add_argument("--data-dir", type=Path, default=Path(".twin-bench"))
    parser.add_argument("--database", default="bench")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {
        "TWIN_DATA_DIR": str(args.data_dir),
        "MONGO_DATABASE": args.database,
        "QDRANT_URL": "",
        "QDRANT_PATH": str(args.data_dir / f"qdrant-{args.database}"),
        "EMBED_ENABLED": args.embed,
        "LOG_FILE": str(args.out.with_suffix(".log")),
        # The generated site is served on 127.0.0.1: the network guard allows that alone.
        "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
    }
    overrides.update(dict(s.split("=", 1) for s in args.settings))
    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler(ArticleSpider)
    kwargs = {"site": args.site + "/", "author": AUTHOR}
    if args.limit:
        kwargs["limit"] = str(args.limit)
    process.crawl(crawler, **kwargs)
    start = time.perf_counter()
    process.start()
    wall = time.perf_counter() - start
    stats = crawler.stats.get_stats()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "wall_seconds": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "stats": {
            k: (v if isinstance(v, int | float | str) else str(v))
            for k, v in stats.items()
            if k in STATS or k.startswith("twin/")
        },
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
