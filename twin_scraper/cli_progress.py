"""`twin crawl`'s progress display (Rich): pages done of those discovered, items stored,
the embedding queue and rate, and an ETA, one line per crawl."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from twin_scraper.services.crawling import Crawl, CrawlOutcome
from twin_scraper.services.crawling import Progress as Sample


class CrawlProgress:
    """A `Watcher` for `services.crawling.run`. On a terminal the bar refreshes live, with
    the log printed above it; elsewhere (a pipe, a file) Rich prints the last state once,
    at the end."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(),
            console=console,
            redirect_stderr=True,
            redirect_stdout=False,
        )
        self.tasks: dict[int, TaskID] = {}

    def __enter__(self) -> CrawlProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def started(self, crawl: Crawl) -> None:
        self.tasks[id(crawl)] = self.progress.add_task(
            crawl.label or crawl.spider, total=None, line="starting"
        )

    def tick(self, crawl: Crawl, sample: Sample) -> None:
        self.progress.update(
            self.tasks[id(crawl)],
            completed=sample.pages_done,
            total=max(sample.pages_discovered, 1),
            line=describe(sample),
        )

    def finished(self, outcome: CrawlOutcome) -> None:
        task = self.tasks.get(id(outcome.crawl))
        if task is None:
            return
        stats = outcome.stats
        done = stats.get("response_received_count", 0)
        line = (
            f"{done} page(s), {stats.get('item_scraped_count', 0)} stored, "
            f"{stats.get('twin/embed/documents', 0)} embedded: {outcome.finish_reason or 'failed'}"
        )
        self.progress.update(task, completed=done, total=max(done, 1), line=line)


def describe(sample: Sample) -> str:
    eta = "" if sample.eta is None else f", ETA {_clock(sample.eta)}"
    return (
        f"{sample.pages_done}/{sample.pages_discovered} pages, {sample.items_stored} stored, "
        f"embedding {sample.embed_queued} queued at {sample.embed_rate:.1f} doc/s{eta}"
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
