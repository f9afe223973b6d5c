"""GitHub: a user's own repositories (or one), listed through the REST API and cloned.

    scrapy crawl github -a user=LOGIN [-a forks=true] [-a limit=N] [-a author="Full Name"]
    scrapy crawl github -a repo=OWNER/NAME [-a author="Full Name"]

Routing only: the API answers and a repository's files are read by
`twin_scraper.extract.github`; git runs in `twin_scraper.gitrepo`, on worker threads, so
the crawl goes on while a repository is cloned. A repository whose head commit
(`git ls-remote`) is the one stored by the last crawl is not cloned again. The routes are
a mixin so a seed file's github.com links are served the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from twin_scraper.extract.github import (
    RepoFiles,
    next_page,
    parse_github_link,
    rate_limited,
    repository_fields,
    select_files,
    valid_full_name,
)
from twin_scraper.gitrepo import (
    CloneError,
    head_commit,
    list_tree,
    read_blob,
    remote_head,
    shallow_clone,
)
from twin_scraper.items import Document
from twin_scraper.netguard import NetworkPolicy, TargetRefused, pinned_resolution
from twin_scraper.params import GitHubParams
from twin_scraper.resources import CrawlResources
from twin_scraper.seeds import SeedLink
from twin_scraper.spiders.base import ERROR_STATUSES, TwinSpider
from twin_scraper.stores.mongo import StoreUnavailable
from twin_scraper.urls import canonicalize_url

API_RETRIES = 2  # for 5xx answers of the API


def snapshot(
    url: str,
    branch: str,
    timeout: float,
    max_clone: int,
    ignore: list[str],
    max_file: int,
    max_total: int,
    policy: NetworkPolicy,
) -> tuple[str, RepoFiles]:
    """Worker thread: clone (from an address the network guard allows), read the head
    commit's text files, remove the clone."""
    pin = pinned_resolution(url, policy)
    with shallow_clone(url, branch, timeout, max_clone, pin) as repo:
        entries = list_tree(repo, timeout)
        files = select_files(entries, partial(read_blob, repo), ignore, max_file, max_total)
        return head_commit(repo), files


def guarded_remote_head(url: str, branch: str, timeout: float, policy: NetworkPolicy) -> str | None:
    """Worker thread: `git ls-remote`, pinned to an address the network guard allows."""
    return remote_head(url, branch, timeout, pinned_resolution(url, policy))


class GitHubRoutes:
    """Requests and callbacks for GitHub. Needs `self.author` (str | None)."""

    author: str | None
    _github_pool: ThreadPoolExecutor | None = None
    _github_heads: dict[str, str] | None = None
    _github_seen: set[str] | None = None  # repositories already taken in this crawl

    # --- entry points -------------------------------------------------------------------
    def github_requests(self, link: SeedLink) -> Iterator[scrapy.Request]:
        """A seed link: a profile gives every repository the user owns, a repository link
        (any page under it) that repository."""
        target = parse_github_link(link.url)
        if target is None:
            self.fail_page(
                link.url,
                "not a GitHub profile or repository",
                "not a GitHub profile or repository link (expected /LOGIN or /OWNER/NAME)",
            )
            return
        kind, name = target
        if kind == "user":
            yield from self.github_user_requests(name, limit=link.limit)
        else:
            yield from self.github_repo_requests(name)

    def github_user_requests(
        self, login: str, forks: bool = False, limit: int | None = None
    ) -> Iterator[scrapy.Request]:
        yield self._github_api(
            f"/users/{login}",
            self.parse_github_owner,
            twin_gh_login=login,
            twin_gh_forks=forks,
            twin_gh_limit=limit,
        )

    def github_repo_requests(self, full_name: str) -> Iterator[scrapy.Request]:
        owner = full_name.split("/")[0]
        yield self._github_api(
            f"/users/{owner}", self.parse_github_owner, twin_gh_login=owner, twin_gh_repo=full_name
        )

    # --- API callbacks ------------------------------------------------------------------
    async def parse_github_owner(self, response: Response) -> Any:
        """The owner's profile: their name is the author unless one was given; then the
        request for their repositories.

        @fixture tests/fixtures/github/user.json
        @meta {"twin_gh_login": "adaquill"}
        @returns requests 1 1
        @returns items 0 0
        """
        payload = await self._github_payload(response, "GitHub user")
        if isinstance(payload, scrapy.Request):
            yield payload
        if not isinstance(payload, dict):
            return
        meta = response.meta
        author = self.author or payload.get("name") or meta["twin_gh_login"]
        if meta.get("twin_gh_repo"):
            yield self._github_api(
                f"/repos/{meta['twin_gh_repo']}", self.parse_github_repo, twin_gh_author=author
            )
            return
        yield self._github_api(
            f"/users/{meta['twin_gh_login']}/repos?type=owner&sort=pushed&direction=desc"
            "&per_page=100",
            self.parse_github_repo_list,
            twin_gh_author=author,
            twin_gh_forks=meta.get("twin_gh_forks", False),
            twin_gh_limit=meta.get("twin_gh_limit"),
            twin_gh_count=0,
        )

    async def parse_github_repo_list(self, response: Response) -> Any:
        """One page of the user's repositories; the next page follows its Link header."""
        payload = await self._github_payload(response, "GitHub user's repositories")
        if isinstance(payload, scrapy.Request):
            yield payload
        if not isinstance(payload, list):
            return
        meta = response.meta
        limit, count = meta.get("twin_gh_limit"), meta.get("twin_gh_count", 0)
        chosen = []
        for repo in payload:
            if not isinstance(repo, dict) or not repo.get("html_url"):
                continue
            if repo.get("fork") and not meta.get("twin_gh_forks"):
                self.skip_page(repo["html_url"], "a fork (pass -a forks=true to include forks)")
                continue
            if limit is not None and count >= limit:
                break
            count += 1
            chosen.append(repo)
        self.crawler.stats.inc_value("twin/github/listed", len(chosen))
        following = next_page(response.headers.get("Link", b"").decode("latin-1"))
        if following and (limit is None or count < limit):
            yield self._github_api(
                following,
                self.parse_github_repo_list,
                **{k: v for k, v in meta.items() if k.startswith("twin_gh_")}
                | {"twin_gh_count": count},
            )
        # Each repository's head is asked for (git ls-remote) at once; its clone is
        # requested as soon as its answer says it changed.
        steps = [self._github_repo_steps(repo, meta["twin_gh_author"]) for repo in chosen]
        for step in asyncio.as_completed(steps):
            request = await step
            if request is not None:
                yield request

    async def parse_github_repo(self, response: Response) -> Any:
        payload = await self._github_payload(response, "GitHub repository")
        if isinstance(payload, scrapy.Request):
            yield payload
        if not isinstance(payload, dict) or not payload.get("html_url"):
            return
        self.crawler.stats.inc_value("twin/github/listed")
        request = await self._github_repo_steps(payload, response.meta["twin_gh_author"])
        if request is not None:
            yield request

    async def parse_github_languages(self, response: Response) -> Any:
        """Languages known, clone the repository (off the reactor thread) and read it."""
        payload = await self._github_payload(response, "GitHub repository's languages")
        if isinstance(payload, scrapy.Request):
            yield payload
            return
        languages = payload if isinstance(payload, dict) else {}
        repo, author = response.meta["twin_gh_data"], response.meta["twin_gh_author"]
        settings = self.settings
        try:
            head, tree = await self._github_thread(
                snapshot,
                self._clone_url(repo["full_name"]),
                repo["default_branch"],
                settings.getfloat("GITHUB_CLONE_TIMEOUT"),
                settings.getint("GITHUB_MAX_REPO_KB") * 1024,
                settings.getlist("GITHUB_IGNORE"),
                settings.getint("GITHUB_MAX_FILE_BYTES"),
                settings.getint("GITHUB_MAX_REPO_TEXT_BYTES"),
                NetworkPolicy.from_settings(settings),
            )
        except CloneError as exc:
            self.fail_page(repo["html_url"], "clone failed", str(exc))
            return
        except TargetRefused as refused:
            self.fail_page(repo["html_url"], refused.reason, str(refused))
            return
        self.crawler.stats.inc_value("twin/github/cloned")
        self.crawler.stats.inc_value("twin/github/files", len(tree.files))
        self.crawler.stats.inc_value("twin/github/files_skipped", len(tree.skipped))
        if tree.truncated:
            self.logger.warning(
                "%s: text over GITHUB_MAX_REPO_TEXT_BYTES; the rest is left out (truncated)",
                repo["html_url"],
            )
        # Built unvalidated: the validate pipeline checks it and drops it with the reason.
        yield Document.model_construct(**repository_fields(repo, languages, head, tree, author))

    # --- steps ----------------------------------------------------------------------------
    async def _github_repo_steps(self, repo: dict[str, Any], author: str) -> scrapy.Request | None:
        """The languages request that leads to the clone, or None when the repository is
        skipped: unusable, too large, empty, or unchanged since the last crawl."""
        url = repo["html_url"]
        full_name = repo.get("full_name") or ""
        if self._github_seen is None:
            self._github_seen = set()
        if full_name.lower() in self._github_seen:  # a profile and a repository link
            return None
        self._github_seen.add(full_name.lower())
        if not valid_full_name(full_name) or not repo.get("default_branch"):
            if repo.get("size") == 0:
                self.skip_page(url, "empty repository")
            else:
                self.fail_page(url, "bad API answer", f"no usable full_name/default_branch: {url}")
            return None
        max_kb = self.settings.getint("GITHUB_MAX_REPO_KB")
        if int(repo.get("size") or 0) > max_kb:
            self.skip_page(url, f"larger than GITHUB_MAX_REPO_KB ({max_kb} KB)")
            return None
        timeout = self.settings.getfloat("GITHUB_CLONE_TIMEOUT")
        try:
            head = await self._github_thread(
                guarded_remote_head,
                self._clone_url(full_name),
                repo["default_branch"],
                timeout,
                NetworkPolicy.from_settings(self.settings),
            )
        except CloneError as exc:
            self.fail_page(url, "git ls-remote failed", str(exc))
            return None
        except TargetRefused as refused:
            self.fail_page(url, refused.reason, str(refused))
            return None
        if head is None:
            self.skip_page(url, "empty repository")
            return None
        if self._stored_heads().get(canonicalize_url(url)) == head:
            self.crawler.stats.inc_value("twin/github/unchanged")
            self.unchanged_page(url)
            return None
        return self._github_api(
            f"/repos/{full_name}/languages",
            self.parse_github_languages,
            twin_gh_data=repo,
            twin_gh_author=author,
        )

    def _stored_heads(self) -> dict[str, str]:
        """Head commits stored by earlier crawls, loaded once."""
        if self._github_heads is None:
            try:
                self._github_heads = CrawlResources.of(self.crawler).mongo.repository_heads()
            except StoreUnavailable as exc:
                self.logger.error("Cannot tell unchanged repositories apart: %s", exc)
                self._github_heads = {}
        return self._github_heads

    def _clone_url(self, full_name: str) -> str:
        return f"{self.settings.get('GITHUB_CLONE_URL').rstrip('/')}/{full_name}.git"

    async def _github_thread(self, function: Any, *args: Any) -> Any:
        """Run blocking git work on the clone pool, so the reactor goes on meanwhile."""
        if self._github_pool is None:
            self._github_pool = ThreadPoolExecutor(
                self.settings.getint("GITHUB_CLONE_WORKERS"), thread_name_prefix="twin-git"
            )
            self.crawler.signals.connect(self._github_shutdown, signal=signals.spider_closed)
        return await asyncio.get_running_loop().run_in_executor(
            self._github_pool, partial(function, *args)
        )

    def _github_shutdown(self) -> None:
        if self._github_pool is not None:
            self._github_pool.shutdown(wait=False, cancel_futures=True)

    # --- the API ------------------------------------------------------------------------
    def _github_api(self, path_or_url: str, callback: Any, **meta: Any) -> scrapy.Request:
        base = self.settings.get("GITHUB_API_URL").rstrip("/")
        url = path_or_url if "://" in path_or_url else base + path_or_url
        # GITHUB_TOKEN is attached when the request is sent (GitHubAuthMiddleware), never
        # here: a request waits in the scheduler and may be pickled into a job directory.
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.errback,
            headers=headers,
            meta={
                **meta,
                "handle_httpstatus_list": ERROR_STATUSES,
                # An API for programs, not pages to crawl; rate limits are handled here.
                "dont_obey_robotstxt": True,
                "dont_retry": True,
            },
            dont_filter=True,
        )

    async def _github_payload(self, response: Response, what: str) -> Any:
        """The JSON of a good answer; a Request to send again after a short rate-limit
        wait or a server error; None when it failed (reported). A rate limit that resets
        too late, or a refused token, stops the crawl with a message saying so."""
        status = response.status
        if status < 300:
            try:
                return json.loads(response.body)
            except ValueError:
                self.fail_page(response.url, "not JSON", f"{what}: the API answer is not JSON")
                return None
        headers = {
            key.decode("latin-1").lower(): values[-1].decode("latin-1")
            for key, values in response.headers.items()
            if values
        }
        limit = rate_limited(status, headers, datetime.now(UTC))
        if limit is not None:
            self.crawler.stats.inc_value("twin/github/rate_limited")
            max_wait = self.settings.getfloat("GITHUB_RATE_LIMIT_MAX_WAIT")
            if limit.wait <= max_wait:
                self.logger.info(
                    "GitHub API rate limit reached: waiting %.0f s for the reset", limit.wait
                )
                await asyncio.sleep(limit.wait)
                return response.request.copy()
            message = (
                f"GitHub API rate limit exhausted; it resets at {limit.resets_at:%H:%M} UTC "
                f"(in {limit.wait / 60:.0f} min), later than GITHUB_RATE_LIMIT_MAX_WAIT "
                f"({max_wait:.0f} s). Set GITHUB_TOKEN for a higher limit, or run again then."
            )
            self.logger.error(message)
            self.fail_page(response.url, "rate limited", message)
            raise CloseSpider("github_rate_limited")
        if status == 401:
            message = "GitHub refused the token (HTTP 401): check GITHUB_TOKEN or unset it"
            self.logger.error(message)
            self.fail_page(response.url, "HTTP 401", message)
            raise CloseSpider("github_unauthorized")
        if status >= 500 and response.meta.get("twin_gh_attempt", 0) < API_RETRIES:
            request = response.request.copy()
            request.meta["twin_gh_attempt"] = response.meta.get("twin_gh_attempt", 0) + 1
            return request
        detail = f"{what} not found" if status == 404 else f"{what}: HTTP {status}"
        self.fail_page(response.url, f"HTTP {status}", detail)
        return None


class GitHubSpider(GitHubRoutes, TwinSpider):
    name = "github"
    params_model = GitHubParams
    contract_arguments = {"user": "adaquill"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author

    async def start(self) -> Any:
        if self.params.user:
            requests = self.github_user_requests(
                self.params.user, self.params.forks, self.params.limit
            )
        else:
            requests = self.github_repo_requests(self.params.repo)
        for request in requests:
            yield request
