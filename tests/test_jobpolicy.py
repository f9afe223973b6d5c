"""The settings a Scrapyd job may change, value by value (the job's side is end to end in
tests/test_scrapyd.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin_scraper.jobpolicy import is_scrapyd_job, screen_job_settings


@pytest.mark.parametrize(
    "pair",
    [
        "LOG_LEVEL=warning",
        "JOBDIR=jobs/ada",
        "JOBDIR=jobs/ada/blog",
        "CONCURRENT_REQUESTS=1",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "DOWNLOAD_DELAY=2.5",
        "AUTOTHROTTLE_ENABLED=False",
        "CLOSESPIDER_ITEMCOUNT=100",
        "ARTICLE_TRUST_LISTING_DATES=false",
        "TWIN_SYNC_ID=ada-blog_2",
    ],
)
def test_harmless_settings_are_kept(pair: str, tmp_path: Path) -> None:
    assert screen_job_settings([pair], tmp_path) == ([pair], [])


@pytest.mark.parametrize(
    ("pair", "problem"),
    [
        ("GITHUB_API_URL=http://elsewhere.example", "not one a Scrapyd job may change"),
        ("MONGO_URI=mongodb://elsewhere.example/", "not one a Scrapyd job may change"),
        ("EXTENSIONS={}", "not one a Scrapyd job may change"),
        ("TWIN_REFUSED_JOB_SETTINGS=[]", "not one a Scrapyd job may change"),
        ("JOBDIR=/tmp/anywhere", "must be a directory under jobs/"),
        ("JOBDIR=jobs", "must be a directory under jobs/"),
        ("JOBDIR=jobs/../eggs", "must be a directory under jobs/"),
        ("JOBDIR=jobs/link/x", "must be a directory under jobs/"),  # a symbolic link out
        ("JOBDIR=", "must be a directory under jobs/"),
        ("LOG_FILE=/etc/cron.d/twin.log", "must be a .log file in Scrapyd's directory"),
        ("LOG_FILE=logs/x.txt", "must be a .log file in Scrapyd's directory"),
        ("LOG_LEVEL=LOUD", "must be one of INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_LEVEL=DEBUG", "must be one of INFO, WARNING, ERROR, CRITICAL"),
        ("CONCURRENT_REQUESTS=1000", "must be a whole number from 1 to 32"),
        ("CONCURRENT_REQUESTS=0", "must be a whole number from 1 to 32"),
        ("CONCURRENT_REQUESTS=2.5", "must be a whole number from 1 to 32"),
        ("DOWNLOAD_DELAY=-1", "must be a number from 0 to 60"),
        ("DOWNLOAD_DELAY=nan", "must be a number from 0 to 60"),
        ("AUTOTHROTTLE_ENABLED=maybe", "must be true or false"),
        ("TWIN_SYNC_ID=Ada Blog", "must be a sync name"),
        ("TWIN_SYNC_ID=", "must be a sync name"),
        ("TWIN_SYNC_ID=../x", "must be a sync name"),
        (f"TWIN_SYNC_ID={'a' * 65}", "must be a sync name"),
    ],
)
def test_other_settings_are_refused_with_the_reason(
    pair: str, problem: str, tmp_path: Path
) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "link").symlink_to(tmp_path.parent)
    kept, refused = screen_job_settings([pair, "LOG_LEVEL=INFO"], tmp_path)
    assert kept == ["LOG_LEVEL=INFO"]
    (reason,) = refused
    assert reason.startswith(f"setting {pair.split('=')[0]}") and problem in reason, reason


def test_scrapyd_jobs_are_told_apart_by_their_job_argument() -> None:
    assert is_scrapyd_job(["_job", "url"])
    assert not is_scrapyd_job(["url", "author"])  # pytest's __main__ is not Scrapyd's runner
