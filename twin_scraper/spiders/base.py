"""What every twin_scraper spider shares: validated arguments, failure reporting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import scrapy
from pydantic import BaseModel
from scrapy import signals
from scrapy.exceptions import CloseSpider, DownloadCancelledError, DownloadTimeoutError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from twin_scraper.extract.encoding import decode_html, looks_binary
from twin_scraper.jobpolicy import (
    JOB_SETTINGS,
    REFUSED_REASON,
    REFUSED_SETTING,
    is_scrapyd_job,
    job_path_problem,
)
from twin_scraper.netguard import TargetRefused
from twin_scraper.params import ArgumentError, parse_params
from twin_scraper.report import page_failed, page_skipped, page_unchanged
from twin_scraper.urls import canonicalize_url, strip_credentials

T = TypeVar("T")
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Statuses that reach callbacks instead of the error middleware (3xx are still followed).
ERROR_STATUSES = list(range(400, 600))


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in the reactor's thread pool: extraction takes milliseconds of CPU per
    page, and on the reactor thread it would hold up every download in flight (lxml also
    lets other threads run while it parses)."""
    return await maybe_deferred_to_future(deferToThread(func, *args))


def failure_reason(failure: Failure) -> str:
    """A short, stable reason for the crawl report."""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(DNSLookupError):
        return "DNS lookup failed"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timed out"
    if failure.check(DownloadCancelledError):  # Scrapy cancels a body outgrowing DOWNLOAD_MAXSIZE
        return "response too large"
    if failure.check(ConnectionRefusedError):
        return "connection refused"
    message = str(failure.value)
    if "robots.txt" in message:
        return "forbidden by robots.txt"
    if "maxsize" in message.lower() or "larger than" in message:
        return "response too large"
    if "redirections" in message:
        return "too many redirects"
    return f"download failed: {failure.type.__name__}"


def _no_credentials(value: Any) -> Any:
    if isinstance(value, str):
        return strip_credentials(value)
    if isinstance(value, list):
        return [_no_credentials(v) for v in value]
    return value


class TwinSpider(scrapy.Spider):
    """Base spider: arguments validated by `params_model` at construction."""

    params_model: ClassVar[type[BaseModel]]
    #: What `scrapy check` builds the spider with (it passes no arguments); its contracts
    #: then send their own requests, so nothing is fetched from these.
    contract_arguments: ClassVar[dict[str, str]] = {}
    #: Arguments naming a file or directory on this machine.
    path_arguments: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Arguments starting with "_" are Scrapy's or Scrapyd's own (such as `_job`).
        ours = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        self.scrapyd_job = is_scrapyd_job(kwargs)
        for name in self.path_arguments:
            if name in ours:
                self.check_job_path(f"-a {name}", str(ours[name]))
        self.params = parse_params(self.params_model, self.name, ours)
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k not in ours})
        self._skipped: set[str] = set()

    def check_job_path(self, what: str, path: str) -> None:
        """A file this spider is told to read: in a Scrapyd job, only in Scrapyd's directory."""
        if self.scrapyd_job and (problem := job_path_problem(path, Path.cwd())):
            raise ArgumentError(f"{self.name} spider: {what}: {problem}")

    @classmethod
    def check_arguments(cls, kwargs: dict[str, Any]) -> None:
        """Raise ValueError (ArgumentError) with the message `__init__` would give, before
        any crawl starts: `scrapy crawl` and `twin crawl` print it alone and stop."""
        parse_params(cls.params_model, cls.name, {k: v for k, v in kwargs.items() if k[:1] != "_"})

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> TwinSpider:
        if crawler.settings.getbool("TWIN_CONTRACTS") and not kwargs:
            kwargs = dict(cls.contract_arguments)
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        if crawler.settings.getlist(REFUSED_SETTING):
            crawler.signals.connect(spider.refuse_job, signal=signals.spider_opened)
        return spider

    def refuse_job(self) -> None:
        """A Scrapyd job given settings it may not change: stop before any request."""
        for problem in self.settings.getlist(REFUSED_SETTING):
            self.logger.error("Refused %s", problem)
        self.logger.error(
            "This Scrapyd job stops without crawling: schedule it again without those. A job "
            "may change only %s (see docs/security.md, Scrapyd scheduling).",
            ", ".join(JOB_SETTINGS),
        )
        raise CloseSpider(REFUSED_REASON)

    def on_idle(self) -> None:
        """Called when no request is left; platforms report what discovery missed."""

    def report_arguments(self) -> dict[str, Any]:
        """The arguments, for the stored crawl report (never a password in a URL)."""
        arguments = self.params.model_dump(mode="json", exclude_none=True)
        return {name: _no_credentials(value) for name, value in arguments.items()}

    def fail_page(self, url: str, reason: str, detail: str | None = None) -> None:
        self.logger.warning("Failed %s: %s", url, detail or reason)
        self.crawler.signals.send_catch_log(page_failed, url=url, reason=reason, detail=detail)

    def skip_page(self, url: str, reason: str) -> None:
        """Leave a page out on purpose (reported once per page, however it was found)."""
        key = canonicalize_url(url)
        if key in self._skipped:
            return
        self._skipped.add(key)
        self.logger.info("Skipped %s: %s", url, reason)
        self.crawler.signals.send_catch_log(page_skipped, url=url, reason=reason)

    def unchanged_page(self, url: str) -> None:
        """A page left unfetched: its feed or sitemap date matches the stored one."""
        self.logger.debug("Unchanged by its listing date, not fetched: %s", url)
        self.crawler.stats.inc_value("twin/pages/unchanged_listed")
        self.crawler.signals.send_catch_log(page_unchanged, url=url)

    def errback(self, failure: Failure) -> None:
        """A page that could not be fetched: one line and one entry in the report."""
        if failure.check(TargetRefused):
            return  # the network guard reported it, with the variable that would allow it
        url = failure.request.url if hasattr(failure, "request") else "<unknown>"
        reason = failure_reason(failure)
        self.fail_page(url, reason, f"{reason}: {failure.getErrorMessage()}"[:500])

    def html_of(self, response: Response) -> str | None:
        """The page's text when it is an HTML document, else reports why not and None."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or (
            content_type and not any(t in content_type for t in HTML_TYPES)
        ):
            kind = content_type.split(";")[0].strip() or "unknown type"
            self.fail_page(response.url, "not HTML", f"not HTML ({kind})")
            return None
        if looks_binary(response.body):
            self.fail_page(response.url, "not HTML", "binary data served as HTML")
            return None
        elements = response.body.count(b"<") - response.body.count(b"</")
        limit = self.settings.getint("PAGE_MAX_ELEMENTS")
        if limit and elements > limit:  # extraction time and memory grow with elements
            self.fail_page(
                response.url,
                "too many elements",
                f"too many elements: about {elements:,} tags (PAGE_MAX_ELEMENTS is {limit:,})",
            )
            return None
        text, _ = decode_html(response.body, response.encoding)
        return text
