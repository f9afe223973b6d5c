"""The crawl report: per domain, what was attempted, what succeeded, what failed and why.

Built from signals (items scraped and dropped, pages the spider could not use), stored in
MongoDB's `crawl_runs` at the end of the crawl and printed.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from twin_scraper.atomic import atomic_write
from twin_scraper.console import make_console
from twin_scraper.logformatter import item_url
from twin_scraper.pipelines import (
    DiskFull,
    Duplicate,
    Invalid,
    Journaled,
    Rejected,
    StoreFailed,
    Unchanged,
)
from twin_scraper.resources import CrawlResources
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.urls import domain_of

logger = logging.getLogger(__name__)

#: Sent by spiders: a page could not give a document (`url`, `reason`, optional `detail`).
page_failed = object()
#: Sent by spiders: a page was left out on purpose (`url`, `reason`), e.g. another author's.
page_skipped = object()
#: Sent by spiders: a page not fetched because its listing says it has not changed (`url`).
page_unchanged = object()
#: Sent by the duplicate filter: a page an interrupted run of this job settled (`url`).
page_resumed = object()

SUCCEEDED = ("new", "updated", "unchanged")
MAX_FAILURES_LISTED = 200


@dataclass
class DomainReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)
    #: Pages left out on purpose, and previews stored (paid, member-only), each named.
    skipped: list[dict[str, str]] = field(default_factory=list)
    previews: list[dict[str, str]] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return sum(self.outcomes[o] for o in SUCCEEDED)

    @property
    def failed(self) -> int:
        return self.outcomes["failed"]

    @property
    def attempted(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class CrawlReport:
    domains: dict[str, DomainReport] = field(default_factory=dict)

    def record(
        self, url: str, outcome: str, reason: str | None = None, detail: str | None = None
    ) -> None:
        domain = self.domains.setdefault(domain_of(url) or "(no domain)", DomainReport())
        domain.outcomes[outcome] += 1
        if reason:
            domain.reasons[reason] += 1
            listed = {"failed": domain.failures, "skipped": domain.skipped}.get(
                outcome, domain.previews if outcome in SUCCEEDED else None
            )
            if listed is not None and len(listed) < MAX_FAILURES_LISTED:
                listed.append({"url": url, "reason": reason, "detail": detail or reason})

    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for domain in self.domains.values():
            total.update(domain.outcomes)
        return {
            "attempted": sum(total.values()),
            "succeeded": sum(total[o] for o in SUCCEEDED),
            "failed": total["failed"],
            **{
                k: total[k]
                for k in (
                    "new",
                    "updated",
                    "unchanged",
                    "duplicate",
                    "skipped",
                    "journaled",
                    "resumed",
                )
            },
        }

    def as_document(self) -> dict[str, Any]:
        """MongoDB form: domains as a list (field names may not contain dots)."""
        return {
            "totals": self.totals(),
            "domains": [
                {
                    "domain": name,
                    "attempted": d.attempted,
                    "succeeded": d.succeeded,
                    "failed": d.failed,
                    "outcomes": dict(d.outcomes),
                    "reasons": dict(d.reasons),
                    "failures": d.failures,
                    "skipped": d.skipped,
                    "previews": d.previews,
                }
                for name, d in sorted(self.domains.items())
            ],
        }


def drop_outcome(exception: BaseException) -> tuple[str, str | None]:
    """(outcome, reason) for an item dropped by one of our pipelines."""
    if isinstance(exception, Unchanged):
        return "unchanged", None
    if isinstance(exception, Duplicate):
        return "duplicate", None
    if isinstance(exception, Rejected):
        return "failed", str(exception).split(":", 1)[0]
    if isinstance(exception, Invalid):
        return "failed", "invalid item"
    if isinstance(exception, DiskFull):
        return "failed", "disk full"
    if isinstance(exception, StoreFailed):
        return "failed", "MongoDB write failed"
    if isinstance(exception, Journaled):
        return "journaled", "MongoDB unreachable: kept in the local journal"
    return "failed", type(exception).__name__


def render(run: dict[str, Any], console: Console) -> None:
    """Print a stored run as a table: one row a domain, then the reasons of failures."""
    table = Table(title=f"Crawl report: {run.get('spider')} ({run.get('finish_reason')})")
    for column in (
        "domain",
        "attempted",
        "succeeded",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "failed",
    ):
        table.add_column(column, justify="left" if column == "domain" else "right")
    for d in run["domains"]:
        o = d["outcomes"]
        table.add_row(
            d["domain"],
            str(d["attempted"]),
            str(d["succeeded"]),
            *(str(o.get(k, 0)) for k in ("new", "updated", "unchanged", "skipped")),
            str(d["failed"]),
        )
    t = run["totals"]
    table.add_row(
        "total",
        str(t["attempted"]),
        str(t["succeeded"]),
        *(str(t[k]) for k in ("new", "updated", "unchanged", "skipped")),
        str(t["failed"]),
        style="bold",
    )
    console.print(table)
    for problem in run.get("refused_settings", []):
        console.print(f"  refused {problem}")
    for d in run["domains"]:
        for reason, count in sorted(d["reasons"].items(), key=lambda kv: -kv[1]):
            console.print(f"  {d['domain']}: {count} x {reason}")
        for preview in d.get("previews", []):
            console.print(f"  stored as a preview: {preview['url']} ({preview['detail']})")
    refused = sum(
        count
        for d in run["domains"]
        for reason, count in d["reasons"].items()
        if reason == "refused: private address"
    )
    if refused:
        console.print(
            f"{refused} request(s) to private or local addresses were refused; allow a "
            "network you trust with TWIN_ALLOW_PRIVATE (e.g. TWIN_ALLOW_PRIVATE=10.0.0.0/8)."
        )
    resumed = t.get("resumed", 0)
    if resumed:
        console.print(
            f"{resumed} page(s) were settled by the interrupted run of this job: not fetched again."
        )
    journaled = t.get("journaled", 0)
    if journaled:
        console.print(
            f"{journaled} document(s) went to the local journal while MongoDB was unreachable: "
            "written when it came back, or by the next crawl or `twin journal replay`."
        )
    pending = run.get("embed_pending", 0)
    if pending:
        console.print(f"{pending} document(s) wait for embedding: run `twin embed`.")


def save_elsewhere(run: dict[str, Any], data_dir: Path, problem: Exception) -> Path | None:
    """The report as a JSON file when MongoDB cannot take it: in the data directory, else
    (its disk full) in the system's temporary directory, else in full in the log. Written
    whole or not at all, never a half file."""
    text = json.dumps(run, default=str, indent=2)
    name = f"crawl_run-{run['_id']}.json"
    failures = []
    for directory in (data_dir, Path(tempfile.gettempdir())):
        try:
            with atomic_write(directory / name) as handle:
                handle.write(text)
        except OSError as exc:
            failures.append(f"{directory}: {exc.strerror or exc}")
            continue
        logger.error(
            "Could not store the crawl report in MongoDB (%s); saved it to %s",
            problem,
            directory / name,
        )
        return directory / name
    logger.error(
        "Could not store the crawl report in MongoDB (%s) nor in a file (%s); here it is:\n%s",
        problem,
        "; ".join(failures),
        text,
    )
    return None


class CrawlReportExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.report = CrawlReport()
        self.started_at = datetime.now(UTC)
        self.run_id = str(uuid.uuid4())
        for handler, signal in (
            (self.item_scraped, signals.item_scraped),
            (self.item_dropped, signals.item_dropped),
            (self.item_error, signals.item_error),
            (self.spider_error, signals.spider_error),
            (self.page_failed, page_failed),
            (self.page_skipped, page_skipped),
            (self.page_unchanged, page_unchanged),
            (self.page_resumed, page_resumed),
            (self.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReportExtension:
        return cls(crawler)

    def item_scraped(self, item: Any) -> None:
        preview = getattr(item, "preview_reason", None)
        reason = f"{item.preview}, preview only" if preview else None
        self.report.record(item.url, getattr(item, "change", None) or "new", reason, preview)

    def item_dropped(self, item: Any, exception: DropItem) -> None:
        outcome, reason = drop_outcome(exception)
        self.report.record(item_url(item), outcome, reason, str(exception))

    def item_error(self, item: Any, failure: Any) -> None:
        self.report.record(item_url(item), "failed", f"pipeline error: {failure.type.__name__}")

    def spider_error(self, failure: Any, response: Any) -> None:
        self.report.record(response.url, "failed", f"spider error: {failure.type.__name__}")

    def page_failed(self, url: str, reason: str, detail: str | None = None) -> None:
        self.report.record(url, "failed", reason, detail)

    def page_skipped(self, url: str, reason: str) -> None:
        self.report.record(url, "skipped", reason)

    def page_unchanged(self, url: str) -> None:
        self.report.record(url, "unchanged")

    def page_resumed(self, url: str) -> None:
        self.report.record(url, "resumed")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        run = {
            "_id": self.run_id,
            "spider": spider.name,
            "arguments": getattr(spider, "report_arguments", lambda: {})(),
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC),
            "finish_reason": reason,
            "requests": stats.get_value("downloader/request_count", 0),
            **self.report.as_document(),
        }
        if getattr(spider, "_job", None):  # Scrapyd's job id, to find the job's log
            run["scrapyd_job"] = spider._job
        refused = self.crawler.settings.getlist("TWIN_REFUSED_JOB_SETTINGS")
        if refused:  # a Scrapyd job stopped for settings it may not change
            run["refused_settings"] = refused
        if self.crawler.settings.get("TWIN_SYNC_ID"):  # started by a sync (`twin sync`)
            run["sync_id"] = self.crawler.settings.get("TWIN_SYNC_ID")
        stats.set_value("twin/report/run_id", self.run_id)
        for name, count in run["totals"].items():  # what `twin crawl` sums up and exits on
            stats.set_value(f"twin/report/{name}", count)
        resources = CrawlResources.of(self.crawler)
        if resources.mongo_error is not None and not self.report.domains:
            return  # the crawl never started: its one error says why, an empty report nothing
        try:
            # What waits for `twin embed` now, whatever the reason (Qdrant busy, embedding off).
            run["embed_pending"] = resources.mongo.count_to_embed(MODEL_NAME)
            resources.mongo.save_run(run)
        except Exception as exc:  # a store that is down must not lose the report
            save_elsewhere(run, resources.config.data_dir, exc)
        if self.crawler.settings.get("LOG_FILE"):
            # Scrapyd jobs: stderr goes to Scrapyd's own log, so the report goes to the job's.
            text = io.StringIO()
            render(run, Console(file=text, width=120, soft_wrap=True))
            logger.info("Crawl report:\n%s", text.getvalue().rstrip())
        else:
            render(run, make_console(stderr=True))
