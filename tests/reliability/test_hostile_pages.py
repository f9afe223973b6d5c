"""Hostile pages: each handled with a reason in the crawl report, no crash, bounded
memory. One real `scrapy crawl seeds` process against `HostileServer`; its peak memory
(the child's maximum resident set) is printed for the closing note and held to a
generous bound."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.reliability.helpers import environment, start
from tests.reliability.hostile import HostileServer
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.urls import canonicalize_url

FAILED = {
    "/huge-declared/": "response too large",
    "/huge-streamed/": "response too large",
    "/gzip-bomb/": "response too large",
    "/binary/": "not HTML",
    "/million-links/": "too many elements",
    "/loop-a/": "redirect loop",
    "/trickle/": "timed out",
    "/deep/": "empty",  # lxml stops at depth 256 (huge_tree off): no text, no recursion crash
    "/always-503/": "error_page",  # after RETRY_TIMES retries, each after Retry-After
    "/retry-tomorrow/": "error_page",  # Retry-After past RETRY_AFTER_MAX: not retried
}
STORED = ("/mislabelled/", "/invalid-encoding/", "/nul-bytes/", "/rate-limited/")
MEMORY_BOUND_MB = 1024


def test_hostile_pages_are_reported_with_reasons_in_bounded_memory(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings, TWIN_EMBED="false")
    with HostileServer() as server:
        links = [*FAILED, *STORED, "/blog/"]
        seeds = tmp_path / "hostile.yaml"
        seeds.write_text(
            "author: Rowan Vale\nlinks:\n"
            + "".join(
                f"  - site: {server.url(p)}\n" if p == "/blog/" else f"  - url: {server.url(p)}\n"
                for p in links
            )
        )
        log = tmp_path / "crawl.log"
        process = start(
            ["scrapy", "crawl", "seeds", "-a", f"file={seeds}", "-s", "DOWNLOAD_TIMEOUT=3"],
            env,
            log,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output = log.read_text(errors="replace")
        assert process.returncode == 0, output[-3000:]
        assert "Traceback" not in output, output[-5000:]
        peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
        print(f"peak memory of the hostile crawl: {peak_mb:.0f} MB")
        (tmp_path / "peak_mb.txt").write_text(f"{peak_mb:.0f}\n")
        assert peak_mb < MEMORY_BOUND_MB

        run = mongo.latest_runs(1)[0]
        assert run["finish_reason"] == "finished"
        failures = {
            f["url"].removeprefix(server.base): f for d in run["domains"] for f in d["failures"]
        }
        for path, reason in FAILED.items():
            assert failures[path]["reason"] == reason, (path, failures.get(path))
        docs = {d["canonical_url"]: d for d in mongo.iter_documents()}
        assert set(docs) == {canonicalize_url(server.url(p)) for p in STORED}
        text = "\n".join(d["content"] for d in docs.values())
        assert "Café Essay 3" in text  # mislabelled: decoded as what the bytes are
        assert "Essay ÿþÃ(" in text  # invalid UTF-8, unknown label: Windows-1252
        assert "Essay 5" in text and "\0" not in text
        # Every link has its line; the blog's is its one (unexpanded) feed entry's.
        assert run["totals"]["attempted"] == len(links)

        # Retries: bounded, after Retry-After, and not at all past RETRY_AFTER_MAX.
        assert server.hits["/always-503/"] == 3  # RETRY_TIMES = 2
        assert server.hits["/retry-tomorrow/"] == 1
        first, second = server.times["/rate-limited/"]
        assert second - first >= 1.0
        # Discovery: the self-listing index is read once; the entity bombs were never
        # expanded (the feed's entry URL keeps the entity's name, and is reported as 404).
        assert failures["/blog/&e10"]["reason"] == "HTTP 404"
        assert not any("lol" in path for path in server.hits)
        assert server.hits["/blog/sitemap.xml"] == 1
        assert server.hits["/blog/sitemap-bomb.xml"] == 1
