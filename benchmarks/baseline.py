"""The baseline: a crawler in the style of the reference LLM-twin crawlers, in its own process.

    python -m benchmarks.baseline --site URL --out result.json [--limit N] [--embed]
        [--data-dir DIR]

One page at a time with `requests` and BeautifulSoup (`html.parser`, as the reference
crawlers use it), the whole page's text as content, one MongoDB `insert_one` per document
and, with `--embed`, one embedding call per document (its text split into windows of 200
words, all embedded in that call). The URLs come from the site's sitemap, newest first,
like a hand-made list of links. Same MongoDB (embedded nx-27017) and model as ours.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import uuid
from pathlib import Path

import requests
from bs4 import BeautifulSoup
from pymongo import MongoClient

from twin_scraper.config import project_settings
from twin_scraper.stores.embedded_mongo import ensure_server
from twin_scraper.stores.embedder import Embedder, ensure_model

WINDOW_WORDS = 200


def sitemap_urls(site: str, limit: int | None) -> list[str]:
    """The posts listed by the sitemap, newest first."""
    soup = BeautifulSoup(requests.get(f"{site}/sitemap.xml", timeout=30).content, "xml")
    dated = [(u.find("lastmod").text, u.find("loc").text) for u in soup.find_all("url")]
    urls = [url for _, url in sorted(dated, reverse=True)]
    return urls[:limit] if limit else urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--embed", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=Path(".twin-bench"))
    args = parser.parse_args(argv)
    collection = MongoClient(ensure_server(args.data_dir))["baseline"]["articles"]
    embedder = None
    if args.embed:
        embedder = Embedder(ensure_model(project_settings().get("EMBED_MODEL_DIR")))
    start = time.perf_counter()
    urls = sitemap_urls(args.site, args.limit)
    chunks = 0
    for url in urls:
        response = requests.get(url, timeout=30)
        soup = BeautifulSoup(response.text, "html.parser")
        title = soup.title.string if soup.title else ""
        text = soup.get_text(" ", strip=True)
        collection.insert_one(
            {
                "_id": str(uuid.uuid4()),
                "link": url,
                "platform": "article",
                "content": {"Title": title, "Content": text},
            }
        )
        if embedder is not None:
            words = text.split()
            windows = [
                " ".join(words[i : i + WINDOW_WORDS]) for i in range(0, len(words), WINDOW_WORDS)
            ]
            embedder.embed(windows)
            chunks += len(windows)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "pages": len(urls),
        "seconds": seconds,
        "chunks": chunks,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
