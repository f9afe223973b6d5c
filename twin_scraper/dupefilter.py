"""A duplicate filter whose job directory survives SIGKILL.

Scrapy's own filter writes a request to `requests.seen` (buffered) when it is scheduled,
and its disk queue is readable again only after a clean stop. A crawl killed mid-run
therefore resumes believing that pages scheduled but never fetched were seen: they are
lost. This filter remembers a request in the job directory only once its page is
settled (its item stored or journaled, or dropped as unchanged, duplicate, invalid or
rejected), one unbuffered line each. A resumed job yields its start requests and
re-runs discovery; pages already settled are filtered (and reported as such), every
other page is fetched again. A page settled under a redirect is fetched once more and
found unchanged: never stored twice.

The frontier is rebuilt that way, so the disk queue a job directory kept is discarded
at start: after a kill it is unreadable or half-read (requests come back that bypass
the filter), and after a clean stop it holds what the start requests give again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, BinaryIO

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from twin_scraper.pipelines import StoreFailed
from twin_scraper.report import page_failed, page_resumed, page_skipped

DONE_FILE = "requests.done"
QUEUE_DIR = "requests.queue"  # Scrapy's disk queue


class ResumableDupeFilter(RFPDupeFilter):
    def __init__(
        self, path: str | None = None, debug: bool = False, *, fingerprinter: Any = None
    ) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.done_before: set[bytes] = set()
        self.reported: set[bytes] = set()
        self.done_file: BinaryIO | None = None
        self.crawler: Crawler | None = None
        if path:
            shutil.rmtree(Path(path, QUEUE_DIR), ignore_errors=True)  # before the scheduler
            done = Path(path, DONE_FILE)
            if done.exists():
                self.done_before = {
                    bytes.fromhex(line.strip())
                    for line in done.read_text(encoding="ascii", errors="replace").splitlines()
                    if _is_hex(line.strip())
                }
            self._fingerprints |= self.done_before
            self.done_file = open(done, "ab", buffering=0)  # noqa: SIM115 (closed in close())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumableDupeFilter:
        dupefilter = cls(
            job_dir(crawler.settings),
            crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )
        dupefilter.crawler = crawler
        if dupefilter.done_file is not None:
            crawler.signals.connect(dupefilter.item_scraped, signal=signals.item_scraped)
            crawler.signals.connect(dupefilter.item_dropped, signal=signals.item_dropped)
        return dupefilter

    def item_scraped(self, item: Any, response: Any) -> None:
        self._settled(response)

    def item_dropped(self, item: Any, response: Any, exception: BaseException) -> None:
        if not isinstance(exception, StoreFailed):  # not stored: fetch it again on resume
            self._settled(response)

    def _settled(self, response: Any) -> None:
        request = getattr(response, "request", None)
        if request is not None and self.done_file is not None:
            self.done_file.write(self._fingerprint(request).hex().encode() + b"\n")

    def log(self, request: Request, spider: Spider) -> None:
        """A filtered request is reported when it ends a page's story: settled by an
        earlier run of the job, or a redirect going in a loop or to a page already
        crawled (Scrapy drops those silently)."""
        fingerprint = self._fingerprint(request)
        redirects = request.meta.get("redirect_urls") or []
        if self.crawler is None or fingerprint in self.reported:
            pass
        elif fingerprint in self.done_before:
            self.reported.add(fingerprint)
            self.crawler.signals.send_catch_log(page_resumed, url=request.url)
        elif request.url in redirects:
            path = " -> ".join([*redirects, request.url])
            self.crawler.signals.send_catch_log(
                page_failed,
                url=redirects[0],
                reason="redirect loop",
                detail=f"redirect loop: {path}",
            )
        elif redirects:
            self.crawler.signals.send_catch_log(
                page_skipped, url=redirects[0], reason="redirects to a page crawled already"
            )
        super().log(request, spider)

    def close(self, reason: str) -> None:
        if self.done_file is not None:
            self.done_file.close()


def _is_hex(text: str) -> bool:
    try:
        return len(text) >= 16 and bool(bytes.fromhex(text))
    except ValueError:
        return False
