"""What whoever schedules a Scrapyd job may change: a short list of harmless settings.

A job runs as the server's user, with its GitHub token, LinkedIn cookie and data
directory, but its `setting=` values come from anyone who has Scrapyd's password.
Unchecked, `GITHUB_API_URL` or `LINKEDIN_BASE_URL` would send the secrets to another
host, `PLAYWRIGHT_LAUNCH_OPTIONS` would run any program, `FEEDS`, `HTTPCACHE_DIR` or a
JOBDIR elsewhere would write files anywhere, and `ITEM_PIPELINES` would turn validation
and storage off. So a Scrapyd job keeps only the settings below, each within bounds; the
job reports the others and stops without crawling. A plain `scrapy crawl` keeps every
setting: the user owns that shell.

Telling a job apart: Scrapyd (1.6) starts each as `python -m scrapyd.runner crawl SPIDER
-s NAME=VALUE... -a _job=ID -a NAME=VALUE...`. It sets no job variable in the environment
(only SCRAPY_PROJECT, which a user's shell may set as well, and SCRAPYD_EGG_VERSION when a
version is asked for), so the runner as `__main__` and the `_job` argument are the marks.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

#: The setting that carries the refusals from the command line to the crawl.
REFUSED_SETTING = "TWIN_REFUSED_JOB_SETTINGS"
#: The finish reason of a job stopped for them.
REFUSED_REASON = "refused_settings"
#: Where a job's JOBDIR may be, under Scrapyd's directory (the jobs' working directory).
JOBS_AREA = "jobs"
SCRAPYD_RUNNER = "scrapyd.runner"
_TRUE_FALSE = {"1", "0", "true", "false", "True", "False"}  # what Settings.getbool reads
#: A sync's name (`twin sync add`), which a sync's job carries as TWIN_SYNC_ID.
SYNC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def is_scrapyd_job(spider_arguments: Iterable[str]) -> bool:
    """Was this process started by Scrapyd? (`spider_arguments`: the arguments' names)"""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return "_job" in spider_arguments or getattr(spec, "name", None) == SCRAPYD_RUNNER


Check = Callable[[str, Path], str | None]  # (value, Scrapyd's directory) -> problem or None


def _number(low: float, high: float, whole: bool = True) -> Check:
    def check(value: str, _: Path) -> str | None:
        try:
            number = int(value) if whole else float(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            kind = "a whole number" if whole else "a number"
            return f"must be {kind} from {low:g} to {high:g}"
        return None

    return check


def _true_false(value: str, _: Path) -> str | None:
    return None if value in _TRUE_FALSE else "must be true or false"


def _log_level(value: str, _: Path) -> str | None:
    # Not DEBUG: pymongo would log MongoDB's replies (stored documents) in the job's log,
    # which Scrapyd serves to every scheduler.
    levels = ("INFO", "WARNING", "ERROR", "CRITICAL")
    return None if value.upper() in levels else f"must be one of {', '.join(levels)}"


def _sync_id(value: str, _: Path) -> str | None:
    # It only names the sync in the job's crawl report and progress: any well-formed name
    # is harmless, and the pattern keeps it a name.
    if SYNC_NAME.match(value):
        return None
    return "must be a sync name: 1 to 64 lowercase letters, digits, '-' or '_'"


def _inside(directory: Path, path: Path) -> bool:
    """Is `path` strictly below `directory`, once symbolic links and `..` are resolved?"""
    directory, path = Path(os.path.realpath(directory)), Path(os.path.realpath(path))
    return path != directory and path.is_relative_to(directory)


def _job_dir(value: str, run_dir: Path) -> str | None:
    if value and _inside(run_dir / JOBS_AREA, run_dir / value):
        return None
    return f"must be a directory under {JOBS_AREA}/ in Scrapyd's directory, e.g. {JOBS_AREA}/ada"


def _log_file(value: str, run_dir: Path) -> str | None:
    # Scrapyd's own (its logs_dir), which a relative logs_dir keeps in its directory.
    if value.endswith(".log") and _inside(run_dir, run_dir / value):
        return None
    return "must be a .log file in Scrapyd's directory (keep Scrapyd's logs_dir relative)"


def job_path_problem(value: str, run_dir: Path) -> str | None:
    """A spider argument naming a file on the server (a seed file, a LinkedIn export):
    in a Scrapyd job, only inside Scrapyd's directory, or a scheduler could have any file
    read (and its errors quoted in the job's log, which Scrapyd serves)."""
    if _inside(run_dir, run_dir / value):
        return None
    return (
        "a Scrapyd job reads files only inside Scrapyd's directory; send a seed file's "
        "content instead (`twin schedule`, or curl --data-urlencode yaml@FILE)"
    )


#: Every setting a Scrapyd job may be given, with the values it may take. Concurrency may
#: go down from the project's defaults, not up.
JOB_SETTINGS: dict[str, Check] = {
    "LOG_LEVEL": _log_level,
    "LOG_FILE": _log_file,
    "JOBDIR": _job_dir,
    "CLOSESPIDER_TIMEOUT": _number(0, 7 * 24 * 3600, whole=False),
    "CLOSESPIDER_ITEMCOUNT": _number(0, 10**9),
    "CLOSESPIDER_PAGECOUNT": _number(0, 10**9),
    "CLOSESPIDER_ERRORCOUNT": _number(0, 10**9),
    "DEPTH_LIMIT": _number(0, 1000),
    "CONCURRENT_REQUESTS": _number(1, 32),
    "CONCURRENT_REQUESTS_PER_DOMAIN": _number(1, 8),
    "DOWNLOAD_DELAY": _number(0, 60, whole=False),
    "RANDOMIZE_DOWNLOAD_DELAY": _true_false,
    "DOWNLOAD_TIMEOUT": _number(1, 300, whole=False),
    "AUTOTHROTTLE_ENABLED": _true_false,
    "AUTOTHROTTLE_START_DELAY": _number(0, 60, whole=False),
    "AUTOTHROTTLE_MAX_DELAY": _number(0, 300, whole=False),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _number(0.1, 8, whole=False),
    "ARTICLE_TRUST_LISTING_DATES": _true_false,
    "MEDIUM_TRUST_LISTING_DATES": _true_false,
    "SUBSTACK_TRUST_LISTING_DATES": _true_false,
    "MEDIUM_LIST_MAX_STORIES": _number(1, 10_000),
    "MEDIUM_LIST_MAX_SECONDS": _number(1, 3600),
    "LINKEDIN_MAX_POSTS": _number(1, 10_000),
    "TWIN_SYNC_ID": _sync_id,  # set by a sync whose runner is Scrapyd (twin_scraper.syncs)
}


def screen_job_settings(pairs: Iterable[str], run_dir: Path) -> tuple[list[str], list[str]]:
    """Split a job's `-s NAME=VALUE` pairs into those it keeps and why each other is refused."""
    kept: list[str] = []
    refused: list[str] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        check = JOB_SETTINGS.get(name.strip())
        if not sep:
            kept.append(pair)  # not NAME=VALUE: Scrapy's own error says so
        elif check is None:
            refused.append(f"setting {name.strip()}: not one a Scrapyd job may change")
        elif problem := check(value.strip(), run_dir):
            refused.append(f"setting {name.strip()}={value.strip()[:200]}: {problem}")
        else:
            kept.append(pair)
    return kept, refused
