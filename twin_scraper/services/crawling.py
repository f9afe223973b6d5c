"""Crawls as the `twin` command runs them: URLs and seed files turned into spider runs,
run one after the other with Scrapy's `AsyncCrawlerRunner` (an `AsyncCrawlerProcess`
from the command line, any runner from a program that already runs a reactor), watched
for progress, and summed up in outcomes that say whether anything succeeded."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from twin_scraper.seeds import LinkKind, SeedBatch, SeedFileError, load_seed_file
from twin_scraper.services.workspace import ServiceError, Workspace
from twin_scraper.urls import is_http_url

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner, Crawler

T = TypeVar("T")

#: How often a watched crawl's progress is sampled, in seconds.
TICK_SECONDS = 0.5


class Interrupted(ServiceError):
    """The user stopped the process (Ctrl-C) before the work was done."""


@dataclass(frozen=True)
class Crawl:
    """One spider run: the spider's name, its `-a` arguments, its `-s` settings."""

    spider: str
    arguments: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # what the user gave: a seed file, or the URLs


@dataclass(frozen=True)
class Progress:
    """A running crawl, sampled: what a progress bar shows."""

    pages_done: int
    pages_discovered: int
    items_stored: int
    embed_queued: int
    embedded: int
    embed_rate: float  # documents a second since the crawl started
    elapsed: float
    eta: float | None  # seconds until the known pages are done, when it can be told


@dataclass(frozen=True)
class CrawlOutcome:
    crawl: Crawl
    stats: dict[str, Any]
    error: str | None = None  # the crawl could not start (bad arguments, missing file)

    @property
    def finish_reason(self) -> str | None:
        return self.stats.get("finish_reason")

    @property
    def run_id(self) -> str | None:
        return self.stats.get("twin/report/run_id")

    @property
    def problem(self) -> str | None:
        """Why this crawl counts as failed, or None."""
        if self.error is not None:
            return self.error
        return stats_problem(self.stats)

    @property
    def ok(self) -> bool:
        return self.problem is None


class Watcher(Protocol):
    """What a progress display implements; every method is optional to act on."""

    def started(self, crawl: Crawl) -> None: ...

    def tick(self, crawl: Crawl, progress: Progress) -> None: ...

    def finished(self, outcome: CrawlOutcome) -> None: ...


def stats_problem(stats: dict[str, Any]) -> str | None:
    """Why a crawl's stats say it failed: a fatal problem (a full disk), it did not
    finish, or nothing succeeded."""
    fatal = stats.get("twin/fatal")
    if fatal:
        return str(fatal)
    reason = stats.get("finish_reason")
    if reason is None:
        return "the crawl did not start; see the log above"
    if reason != "finished":
        return f"the crawl stopped early ({reason}); see the log above"
    succeeded = stats.get("twin/report/succeeded")
    if succeeded is None or succeeded > 0:
        return None  # no report (a spider of another project), or something worked
    attempted = stats.get("twin/report/attempted", 0)
    if not attempted:
        return "nothing succeeded: no page was found to crawl (check the URL and arguments)"
    return (
        f"nothing succeeded: {attempted} page(s) attempted, "
        f"{stats.get('twin/report/failed', 0)} failed, "
        f"{stats.get('twin/report/skipped', 0)} skipped (the report says why)"
    )


def outcome_problem(crawler: Crawler) -> str | None:
    """For `scrapy crawl`: why a crawl that Scrapy ran to its end failed the user."""
    return stats_problem(crawler.stats.get_stats() if crawler.stats else {})


# --- what to crawl --------------------------------------------------------------------


def job_dir(data_dir: Path, key: str, stem: str) -> Path:
    """One job directory per seed file (or set of URLs), so running it again resumes it."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return data_dir / "jobs" / f"{stem}-{digest}"


@dataclass(frozen=True)
class Plan:
    crawls: list[Crawl]
    batches: list[tuple[str, SeedBatch]]  # (label, batch) to tell the user what runs


def plan(
    ws: Workspace,
    targets: Sequence[str],
    author: str | None = None,
    limit: int | None = None,
    resume: bool = False,
) -> Plan:
    """Crawls for what the user named: URLs (together, routed by the platform registry
    like a seed file's links) and seed files (one crawl each). Everything is validated
    before anything runs."""
    from twin_scraper.seeds import url_batch
    from twin_scraper.spiders.seeds import SeedsSpider

    if not targets:
        raise ServiceError("name at least one URL or seed file")
    urls = [t.strip() for t in targets if is_http_url(t)]
    files = [Path(t) for t in targets if not is_http_url(t)]
    for target in targets:
        if not is_http_url(target) and not Path(target).exists() and "://" in target:
            raise ServiceError(f"{target}: not an http(s) URL, nor a seed file")
    if files and (author or limit):
        raise ServiceError("--author and --limit go with URLs (a seed file names its own)")
    crawls: list[Crawl] = []
    batches: list[tuple[str, SeedBatch]] = []
    if urls:
        arguments = {"url": ",".join(urls)}
        if author:
            arguments["author"] = author
        if limit:
            arguments["limit"] = str(limit)
        try:
            SeedsSpider.check_arguments(arguments)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
        settings = {}
        if resume:
            settings["JOBDIR"] = str(job_dir(ws.data_dir, " ".join(sorted(urls)), "urls"))
        label = urls[0] if len(urls) == 1 else f"{len(urls)} URLs"
        crawls.append(Crawl("seeds", arguments, settings, label))
        batches.append((label, url_batch(urls, author, limit)))
    for path in files:
        try:
            batch = load_seed_file(path)
        except SeedFileError as exc:
            hint = ""
            if not path.exists() and "." in path.name and path.suffix not in {".yaml", ".yml"}:
                hint = f" (a URL needs its scheme: https://{path})"
            raise ServiceError(f"{exc}{hint}") from None
        settings = {}
        if resume:
            settings["JOBDIR"] = str(job_dir(ws.data_dir, str(path.resolve()), path.stem))
        crawls.append(Crawl("seeds", {"file": str(path)}, settings, str(path)))
        batches.append((str(path), batch))
    return Plan(crawls, batches)


def remote_plan(paths: Sequence[Path]) -> list[tuple[Path, SeedBatch, str]]:
    """Seed files to send to a Scrapyd server: validated here, their text sent along (its
    size is checked against what the server takes: `ScrapydApi.check_seeds_size`)."""
    batches = []
    for path in paths:
        try:
            batch = load_seed_file(path)
        except SeedFileError as exc:
            raise ServiceError(str(exc)) from None
        if any(link.kind == LinkKind.LINKEDIN_EXPORT for link in batch.links):
            raise ServiceError(
                f"seed file {path} names a LinkedIn export: a Scrapyd server cannot read "
                "files on this machine; crawl the export here with `twin crawl`"
            )
        batches.append((path, batch, path.read_text(encoding="utf-8")))
    return batches


# --- running --------------------------------------------------------------------------


async def crawl_all(
    runner: AsyncCrawlerRunner,
    crawls: Sequence[Crawl],
    base: dict[str, Any] | None = None,
    watcher: Watcher | None = None,
    outcomes: list[CrawlOutcome] | None = None,
) -> list[CrawlOutcome]:
    """Run crawls one after the other on `runner`, appending to `outcomes`; a crawl that
    cannot start is an outcome with its error, and the next one still runs. A crawl
    stopped by the user (Ctrl-C) ends the chain."""
    from scrapy.crawler import Crawler

    from twin_scraper.config import project_settings

    outcomes = [] if outcomes is None else outcomes
    for crawl in crawls:
        spidercls = runner.spider_loader.load(crawl.spider)
        crawler = Crawler(spidercls, project_settings({**(base or {}), **crawl.settings}))
        if watcher is not None:
            watcher.started(crawl)
        ticking = asyncio.ensure_future(_tick(crawler, crawl, watcher)) if watcher else None
        error = None
        try:
            await runner.crawl(crawler, **crawl.arguments)
        except ValueError as exc:  # ArgumentError, SeedFileError: the message says it all
            error = str(exc)
        except Exception as exc:
            error = f"{crawl.spider} crawl failed: {type(exc).__name__}: {exc}"
        finally:
            if ticking is not None:
                ticking.cancel()
        outcome = CrawlOutcome(crawl, crawler.stats.get_stats() if crawler.stats else {}, error)
        if watcher is not None:
            watcher.finished(outcome)
        outcomes.append(outcome)
        if outcome.finish_reason == "shutdown":
            break
    return outcomes


def run(
    ws: Workspace,
    crawls: Sequence[Crawl],
    extra: dict[str, Any] | None = None,
    watcher: Watcher | None = None,
) -> list[CrawlOutcome]:
    """Run crawls in this process (starts and stops the reactor: once per process)."""
    base = {**ws.overrides, **(extra or {})}
    outcomes: list[CrawlOutcome] = []
    with contextlib.suppress(Interrupted):  # stopped by the user: what ran is in `outcomes`
        in_reactor(ws, extra, lambda runner: crawl_all(runner, crawls, base, watcher, outcomes))
    return outcomes


def in_reactor(
    ws: Workspace,
    extra: dict[str, Any] | None,
    work: Callable[[AsyncCrawlerRunner], Awaitable[T]],
) -> T:
    """Run `work(runner)` on an `AsyncCrawlerProcess`, which installs the reactor, stops
    crawls gracefully on Ctrl-C and configures logging; returns what `work` returned."""
    from scrapy.crawler import AsyncCrawlerProcess

    process = AsyncCrawlerProcess(ws.settings(extra))
    result: list[T] = []
    failure: list[BaseException] = []

    async def main() -> None:
        try:
            result.append(await work(process))
        except BaseException as exc:
            failure.append(exc)
        finally:
            from twisted.internet import reactor

            if reactor.running:  # type: ignore[attr-defined]
                reactor.callLater(0, reactor.stop)  # type: ignore[attr-defined]

    asyncio.get_event_loop().create_task(main())
    process.start(stop_after_crawl=False)
    if failure:
        raise failure[0]
    if not result:
        raise Interrupted("stopped before the work was done")
    return result[0]


async def _tick(crawler: Crawler, crawl: Crawl, watcher: Watcher) -> None:
    start = time.monotonic()
    while True:
        await asyncio.sleep(TICK_SECONDS)
        if crawler.stats is not None and crawler.engine is not None:
            watcher.tick(crawl, sample(crawler, time.monotonic() - start))


def sample(crawler: Crawler, elapsed: float) -> Progress:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    engine = crawler.engine
    in_flight = len(engine.downloader.active) if engine is not None else 0
    discovered = stats.get("scheduler/enqueued", 0)
    done = max(0, stats.get("scheduler/dequeued", 0) - in_flight)
    embedded = stats.get("twin/embed/documents", 0)
    left = stats.get("twin/embed/pending", 0)
    queued = max(0, stats.get("twin/embed/submitted", 0) - embedded - left)
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (discovered - done) / rate if rate > 0 and discovered > done else None
    return Progress(
        pages_done=done,
        pages_discovered=discovered,
        items_stored=stats.get("item_scraped_count", 0),
        embed_queued=queued,
        embedded=embedded,
        embed_rate=embedded / elapsed if elapsed > 0 else 0.0,
        elapsed=elapsed,
        eta=eta,
    )
