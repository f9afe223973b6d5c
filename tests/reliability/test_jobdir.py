"""A JOBDIR is only ever a job directory: a finished crawl removes what Scrapy and this
project wrote there, and a crawl refuses a JOBDIR holding anything else (the data
directory, a checkout), before writing to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.reliability.helpers import add_articles, environment, own_data_dir, run
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.jobdir import JobDirError, check_job_dir, remove_job_dir
from twin_scraper.stores.embedded_mongo import ensure_server, stop_server
from twin_scraper.stores.mongo import MongoStore


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_data_directory_as_jobdir_is_refused_and_kept(tmp_path: Path, model_dir: Path) -> None:
    """`-s JOBDIR=$TWIN_DATA_DIR`: the corpus (MongoDB, Qdrant, journal) stays whole."""
    data_dir = tmp_path / "data"
    settings = own_data_dir(data_dir, model_dir)
    env = environment(settings, TWIN_EMBED="false")
    (tmp_path / "site").mkdir()
    try:
        with SiteServer(tmp_path / "site") as site:
            urls = add_articles(site, 3)
            site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
            first = run(["scrapy", "crawl", "article", "-a", f"url={urls[0]},{urls[1]}"], env)
            assert first.returncode == 0, first.stderr[-3000:]
            before = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
            again = run(
                ["scrapy", "crawl", "article", "-a", f"url={urls[2]}", "-s", f"JOBDIR={data_dir}"],
                env,
            )
            assert site.hits.get("/notes/2/") is None  # refused before fetching anything
        assert again.returncode != 0
        assert f"JOBDIR {data_dir} is not a job directory: it holds" in again.stderr
        assert "mongo" in again.stderr
        assert sorted(p.relative_to(data_dir) for p in data_dir.rglob("*")) == before
        mongo = MongoStore(ensure_server(data_dir), "twin")
        try:
            assert mongo.count_documents()["articles"] == 2
        finally:
            mongo.close()
    finally:
        stop_server(data_dir)


@deferred_f_from_coro_f
async def test_a_checkout_as_jobdir_is_refused_and_kept(
    site: SiteServer, settings: dict, tmp_path: Path
) -> None:
    """`-s JOBDIR=.` from the project: .git and the code stay, and nothing is written."""
    checkout = tmp_path / "twin_scraper"
    (checkout / ".git" / "objects").mkdir(parents=True)
    (checkout / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (checkout / "README.md").write_text("# twin_scraper\n")
    before = tree(checkout)
    with pytest.raises(JobDirError, match=r"holds \.git, README\.md"):
        await run_spider(
            "article", {**settings, "JOBDIR": str(checkout)}, url=site.url("/articles/plain-essay/")
        )
    assert tree(checkout) == before


@deferred_f_from_coro_f
async def test_a_stopped_job_resumes_and_its_directory_goes_when_it_finishes(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    jobdir = tmp_path / "jobs" / "blog"
    urls = [site.url(f"/articles/{name}/") for name in ("plain-essay", "code-heavy", "german")]
    stopped = await run_spider(
        "article",
        {**settings, "JOBDIR": str(jobdir), "CLOSESPIDER_ITEMCOUNT": 1, "CONCURRENT_REQUESTS": 1},
        url=",".join(urls),
    )
    assert stopped.stats["finish_reason"] == "closespider_itemcount"
    assert (jobdir / "requests.done").is_file()
    check_job_dir(jobdir)  # only a job's own files
    resumed = await run_spider("article", {**settings, "JOBDIR": str(jobdir)}, url=",".join(urls))
    assert resumed.stats["finish_reason"] == "finished"
    assert sum(mongo.count_documents().values()) == 3
    assert not jobdir.exists()
    assert jobdir.parent.is_dir()  # its parent is not the job's


def test_only_a_jobs_own_files_are_removed(tmp_path: Path) -> None:
    job = tmp_path / "job"
    (job / "requests.queue" / "p0").mkdir(parents=True)
    (job / "requests.queue" / "p0" / "q00000").write_bytes(b"pickled")
    (job / "requests.queue" / "active.json").write_text("{}")
    for name in ("requests.done", "requests.seen", "spider.state"):
        (job / name).write_bytes(b"x")
    remove_job_dir(job)
    assert not job.exists()
    # Something else turns up in it: the directory is not a job's any more, all stays.
    (job / "requests.queue").mkdir(parents=True)
    (job / "notes.txt").write_text("mine")
    with pytest.raises(JobDirError, match=r"notes\.txt"):
        remove_job_dir(job)
    assert (job / "notes.txt").read_text() == "mine"
    (job / "notes.txt").unlink()
    (job / "spider.state").mkdir()  # a known name, but not what Scrapy writes there
    with pytest.raises(JobDirError, match=r"spider\.state"):
        check_job_dir(job)


def test_a_file_as_jobdir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(JobDirError, match="is a file"):
        check_job_dir(tmp_path / "notes.txt")
