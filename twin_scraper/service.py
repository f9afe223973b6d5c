"""Scrapyd as the crawl service: started safely (`twin scrapyd`), driven over HTTP
(`twin schedule`).

Scrapyd runs in `$TWIN_DATA_DIR/scrapyd` (eggs, job logs, its queue), with the data
directory passed to every job as an absolute TWIN_DATA_DIR: jobs run with Scrapyd's
working directory, and would otherwise each pick their own `.twin`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import requests

from twin_scraper.stores.mongo import redact_uri
from twin_scraper.stores.private import private_dir

#: Scrapyd puts spider arguments on the job's command line, where one may not exceed
#: 128 KiB; a Scrapyd started by `twin scrapyd` keeps seed files on disk instead
#: (twin_scraper.scrapyd_server) and takes larger ones.
MAX_SEEDS_BYTES = 100_000
RUN_DIR_SCRAPY_CFG = """\
# Scrapyd's run directory. This file stops Scrapyd and its jobs from taking an enclosing
# project's scrapy.cfg for a project of their own: jobs run the deployed egg only.
"""


class ScrapydError(RuntimeError):
    """Scrapyd cannot be started or refused a request; the message says why and what to do."""


def check_credentials(username: str, password: str) -> None:
    """Scrapyd serves its API to anyone when either is empty: refuse that."""
    if not username or not password:
        raise ScrapydError(
            "set SCRAPYD_USERNAME and SCRAPYD_PASSWORD before starting Scrapyd: without both it "
            "accepts jobs from anyone who can reach its port. For example: export "
            "SCRAPYD_USERNAME=twin SCRAPYD_PASSWORD=\"$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(18))')\""
        )
    if ":" in username:
        raise ScrapydError("SCRAPYD_USERNAME may not contain ':' (HTTP basic authentication)")


def prepare_run_dir(data_dir: Path, config: Path) -> Path:
    """`<data_dir>/scrapyd` with this Scrapyd configuration, ready to start Scrapyd in."""
    if not config.is_file():
        raise ScrapydError(
            f"Scrapyd configuration {config} not found: run from the project directory "
            "(where scrapyd.conf is) or give --config"
        )
    run_dir = private_dir(data_dir) / "scrapyd"
    run_dir.mkdir(exist_ok=True)
    shutil.copyfile(config, run_dir / "scrapyd.conf")
    (run_dir / "scrapy.cfg").write_text(RUN_DIR_SCRAPY_CFG)
    return run_dir


class ScrapydApi:
    """The few calls of Scrapyd's JSON API we make, with errors that say what to do."""

    def __init__(self, url: str, username: str = "", password: str = "", timeout: float = 30):
        self.url = url.rstrip("/")
        self.where = redact_uri(self.url)
        self.auth = (username, password) if username else None
        self.timeout = timeout
        self._seeds_limit: int | None = None

    def check_seeds_size(self, name: str, size: int) -> None:
        """Refuse a seed file larger than this Scrapyd takes, before scheduling anything."""
        if size <= MAX_SEEDS_BYTES:
            return
        if self._seeds_limit is None:
            try:  # only a Scrapyd started by `twin scrapyd` answers twin.json
                limit = self._call("GET", "twin.json", []).get("max_seeds_bytes")
            except ScrapydError:
                limit = None
            self._seeds_limit = limit if isinstance(limit, int) else MAX_SEEDS_BYTES
        if size > self._seeds_limit:
            where = (
                "too big for a job argument (a Scrapyd started by `twin scrapyd` keeps larger "
                "ones on disk)"
                if self._seeds_limit == MAX_SEEDS_BYTES
                else f"over the {self._seeds_limit:,} bytes Scrapyd at {self.where} takes"
            )
            raise ScrapydError(f"seed file {name} is {size:,} bytes, {where}: split it")

    def schedule(
        self, project: str, spider: str, arguments: dict[str, str], settings: dict[str, str]
    ) -> str:
        data = [("project", project), ("spider", spider), *arguments.items()]
        data += [("setting", f"{name}={value}") for name, value in settings.items()]
        return self._call("POST", "schedule.json", data)["jobid"]

    def _call(self, method: str, endpoint: str, data: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            response = requests.request(
                method, f"{self.url}/{endpoint}", data=data, auth=self.auth, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ScrapydError(
                f"Scrapyd is unreachable at {self.where} ({type(exc).__name__}): is it running "
                "(`twin scrapyd`), and is the URL right (--scrapyd or SCRAPYD_URL)?"
            ) from None
        if response.status_code == 401:
            raise ScrapydError(
                f"Scrapyd at {self.where} refused the credentials (HTTP 401): give the server's "
                "SCRAPYD_USERNAME and SCRAPYD_PASSWORD (or --username and --password)"
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            raise ScrapydError(
                f"{self.where} answered HTTP {response.status_code} without Scrapyd's JSON: "
                "is this Scrapyd's URL?"
            )
        if answer.get("status") != "ok":
            message = str(answer.get("message", answer))
            hint = ""
            if message.startswith("project") and message.endswith("not found"):
                hint = ": deploy it first (`scrapyd-deploy` in the project directory)"
            raise ScrapydError(f"Scrapyd at {self.where} refused {endpoint}: {message}{hint}")
        return answer
