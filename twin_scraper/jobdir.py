"""Job directories: checked before a crawl uses one, emptied (never more) when it finishes.

A JOBDIR is for resuming a stopped crawl (Ctrl-C, Scrapyd's cancel.json). Kept after the
crawl finished, it would make the next run with the same JOBDIR treat every request as
already seen and fetch nothing; so a finished crawl removes it.

What it removes is exactly what Scrapy and this project write there, by name. A JOBDIR
that holds anything else (`-s JOBDIR=$TWIN_DATA_DIR`, `-s JOBDIR=.` in the checkout, a
Scrapyd `setting=JOBDIR=/home/...`) is refused before the crawl starts: it is somebody's
data, not a job directory.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

#: What a job directory may hold: Scrapy's disk queue (a directory), its duplicate
#: filter's record, our duplicate filter's record (twin_scraper.dupefilter), the spider's
#: state (scrapy.extensions.spiderstate).
QUEUE_DIR = "requests.queue"
JOB_FILES = ("requests.seen", "requests.done", "spider.state")


class JobDirError(ValueError):
    """A JOBDIR that is not a job directory; the message says what it holds."""


def check_job_dir(path: str | Path) -> None:
    """Raise JobDirError unless `path` is missing, empty, or holds only a job's files."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise JobDirError(f"JOBDIR {path} is a file, not a directory")
    known = {QUEUE_DIR, *JOB_FILES}
    foreign = sorted(
        entry.name
        for entry in path.iterdir()
        if entry.name not in known or entry.is_dir() != (entry.name == QUEUE_DIR)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise JobDirError(
            f"JOBDIR {path} is not a job directory: it holds {shown}. A finished crawl "
            "empties its job directory, so it must hold nothing else: name a new or empty "
            "directory (for example under $TWIN_DATA_DIR/jobs/)"
        )


def remove_job_dir(path: str | Path) -> None:
    """Remove a finished job's files, then the directory if nothing else is left."""
    path = Path(path)
    if not path.is_dir():
        return
    check_job_dir(path)  # something may have been added meanwhile: then leave it all
    shutil.rmtree(path / QUEUE_DIR, ignore_errors=True)
    for name in JOB_FILES:
        (path / name).unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        logger.warning("Left the job directory %s in place: it is not empty", path)


class FinishedJobDirCleanup:
    """Extension: refuses a JOBDIR that is not a job directory (from_crawler runs before
    anything writes there), and empties it once the crawl has finished."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.finished = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FinishedJobDirCleanup:
        path = crawler.settings.get("JOBDIR")
        if not path:
            raise NotConfigured
        check_job_dir(path)
        extension = cls(path)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        # After the scheduler, the dupefilter and the spider state have written their files.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.finished = reason == "finished"

    def engine_stopped(self) -> None:
        if not self.finished:
            logger.info("Crawl stopped: schedule it again with JOBDIR=%s to resume", self.path)
            return
        try:
            remove_job_dir(self.path)
        except JobDirError as exc:
            logger.error("Did not remove the job directory: %s", exc)
            return
        logger.info("Crawl finished: removed its job directory %s", self.path)
