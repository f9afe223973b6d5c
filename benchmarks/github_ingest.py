"""Time the GitHub spider on a real repository, served from 127.0.0.1.

    python -m benchmarks.github_ingest [--repo PATH] [--no-embed]

PATH (default: this project's own repository) is copied as a bare repository, served
over git's smart HTTP protocol with a mock GitHub API, and ingested once through the
whole pipeline (clone, file selection, MongoDB, and embedding unless --no-embed) into a
temporary data directory with its own embedded MongoDB. Figures go to stdout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from tests.gitserver import GitServer, MockGitHub
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.spiders.github import GitHubSpider
from twin_scraper.stores.embedded_mongo import stop_server

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--no-embed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as tmp:
        root = Path(tmp)
        git = GitServer(root / "git")
        api = MockGitHub()
        bare = root / "git" / "bare" / "bench" / "repo.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(args.repo), str(bare)], check=True)
        branch = subprocess.run(
            ["git", "symbolic-ref", "--short", "HEAD"], cwd=bare, capture_output=True, text=True
        ).stdout.strip()
        repo = {
            "name": "repo",
            "full_name": "bench/repo",
            "owner": {"login": "bench"},
            "html_url": f"{git.base}/bench/repo",
            "default_branch": branch,
            "size": 1,
        }
        api.routes["/users/bench"] = [(200, {}, {"login": "bench", "name": "Bench Mark"})]
        api.routes["/repos/bench/repo"] = [(200, {}, repo)]
        api.routes["/repos/bench/repo/languages"] = [(200, {}, {})]
        settings = project_settings(
            {
                "TWIN_DATA_DIR": str(root / "data"),
                "GITHUB_API_URL": api.base,
                "GITHUB_CLONE_URL": git.base,
                "EMBED_ENABLED": not args.no_embed,
                "LOG_LEVEL": "WARNING",
            }
        )
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(GitHubSpider)
        process.crawl(crawler, repo="bench/repo")
        started = time.perf_counter()
        process.start()
        elapsed = time.perf_counter() - started
        stats = crawler.stats.get_stats()
        mongo = StoreConfig.from_settings(settings).open_mongo()
        doc = mongo.db.repositories.find_one({})
        mongo.close()
        stop_server(root / "data")
        git.stop()
        api.stop()
    if doc is None:
        print("nothing stored; see the crawl report above", file=sys.stderr)
        return 1
    extra = doc["extra"]
    print(f"repository        {args.repo} ({branch})")
    print(f"files kept        {extra['file_count']} ({extra['text_bytes'] / 1e6:.2f} MB of text)")
    print(f"files skipped     {extra['skipped_count']}: {extra['skipped_reasons']}")
    print(f"chunks embedded   {stats.get('twin/qdrant/points', 0)}")
    print(f"whole crawl       {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
