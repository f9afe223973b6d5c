"""Scrapyd end to end, with real processes: `twin scrapyd` starts Scrapyd (the repository's
scrapyd.conf, a test password, a free 127.0.0.1 port) in a temporary data directory,
`scrapyd-deploy` builds and uploads the egg from a copy of the project, and jobs are
scheduled over Scrapyd's HTTP API against sites served from 127.0.0.1. The jobs import
twin_scraper from the deployed egg, and write to the embedded MongoDB and local Qdrant of
the data directory."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import SITE_DIR, SiteServer
from twin_scraper.params import ArgumentError
from twin_scraper.seeds import SeedFileError
from twin_scraper.spiders.linkedin import LinkedInSpider
from twin_scraper.spiders.seeds import SeedsSpider
from twin_scraper.stores.embedded_mongo import stop_server
from twin_scraper.stores.mongo import MongoStore

REPO = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
PROJECT = "twin_scraper"
USER = "twin"
ADA_POSTS = 7  # the demo site's posts by Ada Quill (an eighth is a guest's)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Scrapyd:
    """The Scrapyd under test and the few API calls the tests make."""

    def __init__(self, url: str, password: str, data_dir: Path, env: dict[str, str]) -> None:
        self.url = url
        self.password = password
        self.data_dir = data_dir
        self.run_dir = data_dir / "scrapyd"
        self.env = env
        self.project = data_dir  # the deployed copy of the project, set once deployed

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.url}/{endpoint}", params=params, auth=(USER, self.password), timeout=30
        )
        response.raise_for_status()
        return response.json()

    def post(self, endpoint: str, data: list[tuple[str, str]]) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/{endpoint}", data=data, auth=(USER, self.password), timeout=60
        )
        response.raise_for_status()
        answer = response.json()
        assert answer["status"] == "ok", answer
        return answer

    def schedule(self, spider: str, settings: dict[str, str] | None = None, **args: str) -> str:
        data = [("project", PROJECT), ("spider", spider), *args.items()]
        data += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        return self.post("schedule.json", data)["jobid"]

    def state(self, job: str) -> str | None:
        jobs = self.get("listjobs.json", project=PROJECT)
        for state in ("pending", "running", "finished"):
            if any(j["id"] == job for j in jobs[state]):
                return state
        return None

    def wait(self, job: str, state: str = "finished", timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.state(job) != state:
            assert time.monotonic() < deadline, f"job {job} not {state}: {self.log(job)[-3000:]}"
            time.sleep(0.5)

    def wait_log(self, job: str, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(job):
            assert self.state(job) != "finished", self.log(job)[-3000:]
            assert time.monotonic() < deadline, f"job {job}: no {text!r} in its log"
            time.sleep(0.2)

    def log(self, job: str) -> str:
        found = list((self.run_dir / "logs" / PROJECT).glob(f"*/{job}.log"))
        return found[0].read_text() if found else ""


def copy_project(destination: Path, port: int) -> Path:
    """What a fresh clone holds for a deploy, with the deploy target on the test's port."""
    destination.mkdir()
    for name in ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, destination / name)
    shutil.copytree(
        REPO / "twin_scraper",
        destination / "twin_scraper",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    cfg = destination / "scrapy.cfg"
    text = cfg.read_text()
    # The README's target, without a trailing slash: scrapyd-client joins endpoints with
    # "/" (a slash more asks Scrapyd for //listprojects.json, a 404).
    assert "url = http://127.0.0.1:6800\n" in text
    cfg.write_text(text.replace("127.0.0.1:6800", f"127.0.0.1:{port}"))
    return destination


def job_settings(**extra: str) -> dict[str, str]:
    """Settings for a job: only those a Scrapyd job may change (twin_scraper.jobpolicy);
    its stores are the server's (see `fresh_stores`)."""
    return {"AUTOTHROTTLE_ENABLED": "false", **extra}


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Scrapyd]:
    root = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    data_dir = root / "data"
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "SCRAPYD_USERNAME": USER,
        "SCRAPYD_PASSWORD": password,
        "SCRAPYD_HTTP_PORT": str(port),
        "TWIN_DATA_DIR": str(data_dir),
        "TWIN_MODEL_DIR": str(model_dir),
        "TWIN_MODEL_AUTO_FETCH": "false",
        "TWIN_QDRANT_WAIT": "60",
        "MONGODB_URI": "",
        "QDRANT_URL": "",
    }
    for name in ("TWIN_MONGO_DATABASE", "TWIN_QDRANT_PATH", "SCRAPYD_BIND_ADDRESS"):
        env.pop(name, None)
    log = open(root / "scrapyd.out", "wb")  # noqa: SIM115 (open for the server's life)
    process = subprocess.Popen(
        [str(BIN / "twin"), "scrapyd"],
        cwd=REPO,  # as the README says: from the project directory
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Scrapyd(f"http://127.0.0.1:{port}", password, data_dir, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (root / "scrapyd.out").read_text()
            try:
                server.get("daemonstatus.json")
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, (root / "scrapyd.out").read_text()
                time.sleep(0.2)
        project = copy_project(root / "project", port)
        deploy = subprocess.run(
            [str(BIN / "scrapyd-deploy")],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert deploy.returncode == 0, deploy.stderr + deploy.stdout
        assert '"status": "ok"' in deploy.stdout
        server.project = project
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
        stop_server(data_dir)  # the embedded MongoDB the jobs started


@pytest.fixture
def fresh_stores(scrapyd: Scrapyd) -> Iterator[StoreConfig]:
    """The server's data directory with empty stores, for one test: a job may not choose
    its own data directory (TWIN_DATA_DIR is not a setting a scheduler may change)."""

    def empty() -> None:
        stop_server(scrapyd.data_dir)  # the embedded MongoDB the jobs started
        for path in scrapyd.data_dir.iterdir():
            if path.name != "scrapyd":
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    empty()
    yield stores(scrapyd)
    empty()


def stores(server: Scrapyd) -> StoreConfig:
    return StoreConfig.from_settings(
        project_settings(
            {
                "TWIN_DATA_DIR": str(server.data_dir),
                "MONGO_DATABASE": "twin",
                "QDRANT_PATH": "",
                "MONGO_URI": "",
                "QDRANT_URL": "",
                "EMBED_MODEL_DIR": server.env["TWIN_MODEL_DIR"],
                "EMBED_AUTO_FETCH": False,
            }
        )
    )


def assert_clean(log: str) -> None:
    assert "Traceback" not in log and "] ERROR:" not in log, log[-4000:]


def scrapyd_client(server: Scrapyd, *args: str) -> subprocess.CompletedProcess:
    """scrapyd-client's own command line, from the project (it reads scrapy.cfg's target,
    credentials from the environment as the file names them)."""
    return subprocess.run(
        [str(BIN / "scrapyd-client"), *args],
        cwd=server.project,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scrapyd_client_commands_work_against_twin_scrapyd(
    scrapyd: Scrapyd, fresh_stores: StoreConfig
) -> None:
    projects = scrapyd_client(scrapyd, "projects")
    assert projects.returncode == 0, projects.stdout + projects.stderr
    assert projects.stdout.split() == [PROJECT]
    spiders = scrapyd_client(scrapyd, "spiders", "-p", PROJECT)
    assert spiders.returncode == 0, spiders.stdout + spiders.stderr
    listed = spiders.stdout.split()
    assert listed[0] == f"{PROJECT}:" and {"article", "medium", "seeds"} <= set(listed[1:])
    with SiteServer(SITE_DIR) as site:
        url = site.url("/posts/sourdough-at-home/")
        scheduled = scrapyd_client(
            scrapyd,
            "schedule",
            "-p",
            PROJECT,
            "article",
            "--arg",
            f"url={url}",
            "--arg",
            "author=Ada Quill",
            "--arg",
            "setting=AUTOTHROTTLE_ENABLED=false",
        )
        assert scheduled.returncode == 0, scheduled.stdout + scheduled.stderr
        assert scheduled.stdout.startswith(f"{PROJECT} / article => ")
        job = scheduled.stdout.split("=> ")[1].strip()
        scrapyd.wait(job)
    log = scrapyd.log(job)
    assert "Crawl report: article (finished)" in log, log[-3000:]
    assert_clean(log)


def test_deployed_egg_carries_the_project(scrapyd: Scrapyd) -> None:
    assert PROJECT in scrapyd.get("listprojects.json")["projects"]
    spiders = scrapyd.get("listspiders.json", project=PROJECT)["spiders"]
    assert {"article", "seeds"} <= set(spiders)
    (egg,) = (scrapyd.run_dir / "eggs" / PROJECT).glob("*.egg")
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert "settings = twin_scraper.settings" in entry_points  # how the runner finds settings
    assert "twin_scraper/spiders/seeds.py" in names
    assert "twin_scraper/demo/site/posts/sourdough-at-home/index.html" in names
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
    # A job's Python takes twin_scraper from the egg, not from the installed checkout.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from scrapyd.runner import project_environment\n"
            f"with project_environment({PROJECT!r}):\n"
            "    import twin_scraper; print(twin_scraper.__file__)",
        ],
        cwd=scrapyd.run_dir,
        env=scrapyd.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.startswith(str(egg)), probe.stdout + probe.stderr


def test_credentials_are_required(scrapyd: Scrapyd, tmp_path: Path) -> None:
    for auth in ((USER, "wrong"), None):
        response = requests.post(
            f"{scrapyd.url}/schedule.json",
            data={"project": PROJECT, "spider": "article", "url": "http://127.0.0.1:9/"},
            auth=auth,
            timeout=30,
        )
        assert response.status_code == 401
    assert scrapyd.get("listjobs.json", project=PROJECT)["pending"] == []

    seeds = tmp_path / "ada.yaml"
    seeds.write_text("author: Ada Quill\nlinks: [http://127.0.0.1:9/posts/a/]\n")

    def twin(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "twin"), *args],
            cwd=REPO,
            env={**scrapyd.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def said(result: subprocess.CompletedProcess) -> str:
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        return " ".join(result.stderr.split())

    wrong = twin("schedule", str(seeds), "--scrapyd", scrapyd.url, SCRAPYD_PASSWORD="nope")
    assert "refused the credentials (HTTP 401)" in said(wrong)
    unknown = twin("schedule", str(seeds), "--scrapyd", scrapyd.url, "--project", "nope")
    assert "project 'nope' not found: deploy it first" in said(unknown)
    down = twin("schedule", str(seeds), "--scrapyd", f"http://127.0.0.1:{free_port()}")
    assert "Scrapyd is unreachable at http://127.0.0.1:" in said(down)
    no_password = twin("scrapyd", SCRAPYD_PASSWORD="")
    assert "set SCRAPYD_USERNAME and SCRAPYD_PASSWORD" in said(no_password)


def test_article_and_seed_jobs_store_and_embed(
    scrapyd: Scrapyd, site: SiteServer, tmp_path: Path, fresh_stores: StoreConfig
) -> None:
    settings = job_settings()
    article = scrapyd.schedule(
        "article",
        settings,
        url=site.url("/articles/code-heavy/"),
        author="Priya Raman",
    )
    scrapyd.wait(article)  # one job at a time on this Qdrant storage: no waiting for it
    seeds = tmp_path / "camille.yaml"
    seeds.write_text(
        f"author: Camille Durand\nlinks:\n  - {site.url('/articles/latin1/')}\n"
        f"  - {site.url('/articles/plain-essay/')}\n"
    )
    result = subprocess.run(
        [str(BIN / "twin"), "schedule", str(seeds), "--scrapyd", scrapyd.url, "--resume"]
        + [arg for k, v in settings.items() for arg in ("-s", f"{k}={v}")],
        env=scrapyd.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "2 link(s) for Camille Durand: job " in result.stdout
    seeds_job = result.stdout.split(": job ")[1].split()[0]
    scrapyd.wait(seeds_job)

    for job, spider in ((article, "article"), (seeds_job, "seeds")):
        log = scrapyd.log(job)
        assert_clean(log)
        assert f"Crawl report: {spider} (finished)" in log  # the report is in the job's log
    # --resume gave the job a directory of its own under Scrapyd's; finished, it is gone.
    assert "Crawl finished: removed its job directory jobs/camille-" in scrapyd.log(seeds_job)
    assert not list((scrapyd.run_dir / "jobs").glob("camille-*"))
    # The seed file's content was kept on disk for the job, and removed once it ended.
    kept = f"seeds/{PROJECT}/{seeds_job}.yaml"
    assert not (scrapyd.run_dir / kept).exists()
    config = fresh_stores
    mongo = config.open_mongo()
    try:
        docs = {d["canonical_url"].rsplit("/", 1)[-1]: d for d in mongo.iter_documents()}
        assert set(docs) == {"code-heavy", "latin1", "plain-essay"}
        assert docs["code-heavy"]["author_full_name"] == "Priya Raman"
        assert docs["latin1"]["author_full_name"] == "Camille Durand"
        assert mongo.count_to_embed(docs["latin1"]["embed"]["model"]) == 0
        runs = {r["scrapyd_job"]: r for r in mongo.latest_runs(5)}
        assert runs[seeds_job]["arguments"] == {
            "file": kept,
            "author": "Camille Durand",
            "links": 2,
        }
        assert runs[article]["totals"]["new"] == 1
        chunks = sum(d["embed"]["chunks"] for d in docs.values())
    finally:
        mongo.close()
    indexer = config.open_indexer()
    try:
        assert indexer.qdrant.count() == chunks > 0
    finally:
        indexer.qdrant.close()


def test_two_jobs_at_once_share_the_default_stores(
    scrapyd: Scrapyd, site: SiteServer, fresh_stores: StoreConfig
) -> None:
    """The default stores of the data directory: one embedded MongoDB server for both
    jobs; Qdrant's local mode admits one process, so the job that finds it held stores
    its documents as pending and embeds them once the other job lets go."""
    with SiteServer(SITE_DIR, latency=0.6) as slow:
        blog = scrapyd.schedule(
            "article",
            job_settings(CONCURRENT_REQUESTS="1"),
            site=slow.url("/"),
            author="Ada Quill",
        )
        scrapyd.wait_log(blog, "Spider opened")  # its pipelines are open: it holds Qdrant
        pages = ",".join(site.url(f"/articles/{slug}/") for slug in ("code-heavy", "german"))
        articles = scrapyd.schedule("article", job_settings(), url=pages, author="Priya Raman")
        scrapyd.wait_log(articles, "is in use by another process")  # they overlap
        scrapyd.wait(blog)
        scrapyd.wait(articles)

    blog_log, articles_log = scrapyd.log(blog), scrapyd.log(articles)
    for log in (blog_log, articles_log):
        assert_clean(log)
        assert "Crawl report: article (finished)" in log
    assert "is in use by another process" not in blog_log
    assert "Qdrant local storage" in articles_log and "is in use by another process" in articles_log
    assert "Qdrant is free again: embedded 2 pending document(s)" in articles_log

    config = fresh_stores
    mongo = config.open_mongo()
    try:
        docs = list(mongo.iter_documents())
        assert len(docs) == ADA_POSTS + 2
        assert all(d["embed"]["status"] == "done" for d in docs)
        chunks = sum(d["embed"]["chunks"] for d in docs)
        runs = {r["scrapyd_job"]: r for r in mongo.latest_runs(2)}
    finally:
        mongo.close()
    assert runs[blog]["totals"]["new"] == ADA_POSTS and runs[articles]["totals"]["new"] == 2
    assert runs[blog]["totals"]["failed"] == runs[articles]["totals"]["failed"] == 0
    assert runs[articles]["embed_pending"] == 0  # caught up before its report was written
    indexer = config.open_indexer()
    try:
        assert indexer.qdrant.count() == chunks
    finally:
        indexer.qdrant.close()


def test_cancelled_job_resumes_from_its_job_directory(
    scrapyd: Scrapyd, fresh_stores: StoreConfig
) -> None:
    """Cancelled mid-crawl while another process holds Qdrant: the job stops at once (no
    wait for Qdrant), its documents pending; scheduled again with the same JOBDIR, it
    fetches only what it had not fetched."""
    from qdrant_client import QdrantClient

    jobdir = "jobs/ada-blog"  # relative: under Scrapyd's run directory, the jobs' cwd
    settings = job_settings(CONCURRENT_REQUESTS="1", JOBDIR=jobdir)
    fresh_stores.qdrant_path.mkdir(parents=True)
    holder = QdrantClient(path=str(fresh_stores.qdrant_path))  # `twin search` left running
    with SiteServer(SITE_DIR, latency=0.4) as server:
        try:
            first = scrapyd.schedule("article", settings, site=server.url("/"), author="Ada Quill")
            deadline = time.monotonic() + 90
            while sum(n for p, n in server.hits.items() if p.startswith("/posts/")) < 2:
                assert time.monotonic() < deadline, scrapyd.log(first)[-3000:]
                time.sleep(0.1)
            cancel = scrapyd.post("cancel.json", [("project", PROJECT), ("job", first)])
            assert cancel["prevstate"] == "running"
            scrapyd.wait(first, timeout=30)  # well within TWIN_QDRANT_WAIT (60 s)
        finally:
            holder.close()
        log = scrapyd.log(first)
        assert "Crawl report: article (shutdown)" in log
        assert "Stopped: the documents stay pending for `twin embed`" in log
        assert (scrapyd.run_dir / jobdir / "requests.done").is_file()  # settled pages
        mongo = fresh_stores.open_mongo()
        try:
            stored_first = sum(mongo.count_documents().values())
            assert 1 <= stored_first < ADA_POSTS, "the cancel did not land mid-crawl"
            assert mongo.latest_runs(1)[0]["embed_pending"] == stored_first

            second = scrapyd.schedule("article", settings, site=server.url("/"), author="Ada Quill")
            scrapyd.wait(second)
            assert_clean(scrapyd.log(second))
            assert sum(mongo.count_documents().values()) == ADA_POSTS
            (run,) = [r for r in mongo.latest_runs(2) if r["scrapyd_job"] == second]
            assert run["totals"]["new"] == ADA_POSTS - stored_first  # nothing twice
            assert run["embed_pending"] == stored_first  # the first run's, for `twin embed`
        finally:
            mongo.close()
        posts = {p: n for p, n in server.hits.items() if p.startswith("/posts/")}
        assert len(posts) >= ADA_POSTS and set(posts.values()) == {1}  # each page once
    assert not (scrapyd.run_dir / jobdir).exists()  # finished: the job directory is gone


def test_seeds_spider_takes_a_file_or_its_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "author: Ada Quill\nlinks: [https://ada.example/posts/a/]\n"
    run_dir = tmp_path / "scrapyd"  # Scrapyd's directory: its jobs' working directory
    run_dir.mkdir()
    seeds = run_dir / "ada.yaml"
    seeds.write_text(text)
    monkeypatch.chdir(run_dir)
    for kwargs in ({"file": str(seeds)}, {"file": "ada.yaml"}, {"yaml": text}):
        spider = SeedsSpider(**kwargs, _job="abc")  # Scrapyd adds _job
        assert spider.batch.author == "Ada Quill"
        assert [link.url for link in spider.batch.links] == ["https://ada.example/posts/a/"]
    # A Scrapyd job reads no file outside Scrapyd's directory; a crawl from a shell may.
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(text)
    assert SeedsSpider(file=str(outside)).batch.author == "Ada Quill"
    for path in (str(outside), "../elsewhere.yaml", "/etc/passwd"):
        with pytest.raises(ArgumentError, match="a Scrapyd job reads files only inside"):
            SeedsSpider(file=path, _job="abc")
    export = f"author: Ada Quill\nlinks: [linkedin_export: {tmp_path}]\n"  # a directory
    assert SeedsSpider(yaml=export).batch.links[0].url == str(tmp_path)
    with pytest.raises(ArgumentError, match="linkedin_export: a Scrapyd job reads files only"):
        SeedsSpider(yaml=export, _job="abc")
    with pytest.raises(ArgumentError, match="-a export: a Scrapyd job reads files only"):
        LinkedInSpider(export=str(tmp_path), _job="abc")
    for kwargs in ({}, {"file": str(seeds), "yaml": text}):
        with pytest.raises(ArgumentError, match="give either -a file=SEEDFILE or -a yaml="):
            SeedsSpider(**kwargs)
    with pytest.raises(SeedFileError, match="seed file -a yaml is not valid YAML"):
        SeedsSpider(yaml="author: [")
    # Links without a file (`twin crawl URL`), with the author given or not.
    spider = SeedsSpider(url="https://ada.example/,https://medium.com/@ada", author="Ada  Quill")
    assert spider.batch.author == "Ada Quill" and len(spider.batch.links) == 2
    assert SeedsSpider(url="https://ada.example/").batch.author is None
    with pytest.raises(ArgumentError, match="-a author and -a limit go with -a url"):
        SeedsSpider(file=str(seeds), author="Ada Quill")


@deferred_f_from_coro_f
async def test_crawl_that_found_qdrant_held_embeds_once_it_is_free(
    site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    """What the second of two jobs does, in one process: Qdrant's local storage is held
    (by this test) when the crawl opens, and let go while the crawl waits at its end."""
    from qdrant_client import QdrantClient

    store_config.qdrant_path.mkdir(parents=True, exist_ok=True)
    holder = QdrantClient(path=str(store_config.qdrant_path))
    release = threading.Timer(3.0, holder.close)
    release.start()
    try:
        urls = [site.url(f"/articles/{slug}/") for slug in ("code-heavy", "plain-essay")]
        result = await run_spider(
            "article", {**settings, "QDRANT_BUSY_WAIT": 60}, url=",".join(urls)
        )
    finally:
        release.cancel()
        holder.close()
    assert result.stats["twin/embed/pending"] == 2  # while the crawl ran
    assert result.stats["twin/embed/caught_up"] == 2  # at its end, once Qdrant was free
    docs = list(mongo.iter_documents())
    assert len(docs) == 2 and {d["embed"]["status"] for d in docs} == {"done"}
    assert mongo.latest_runs(1)[0]["embed_pending"] == 0
    indexer = store_config.open_indexer()
    try:
        assert indexer.qdrant.count() == sum(d["embed"]["chunks"] for d in docs)
    finally:
        indexer.qdrant.close()


def scrapyd_log(server: Scrapyd) -> str:
    """Scrapyd's own log (the `twin scrapyd` process's output)."""
    return (server.data_dir.parent / "scrapyd.out").read_text()


def padded_seeds(tmp_path: Path, links: list[str], size: int) -> Path:
    """A seed file over `size` bytes: a few links and the owner's notes (a long comment),
    so that the crawl stays short."""
    notes = "".join(f"# note {n}: {'to read again later ' * 4}\n" for n in range(size // 80 + 1))
    path = tmp_path / "big.yaml"
    path.write_text(
        "author: Camille Durand\n" + notes + "links:\n" + "".join(f"  - {u}\n" for u in links)
    )
    assert path.stat().st_size > size
    return path


def test_a_seed_file_over_128_kib_runs_as_a_job(
    scrapyd: Scrapyd, site: SiteServer, tmp_path: Path, fresh_stores: StoreConfig
) -> None:
    """The README's curl example with a big seed file: the job runs (it used to be lost,
    with one of Scrapyd's slots), reading the content Scrapyd kept for it."""
    links = [site.url("/articles/latin1/"), site.url("/articles/plain-essay/")]
    seeds = padded_seeds(tmp_path, links, 200 * 1024)
    job = scrapyd.post(
        "schedule.json",
        [("project", PROJECT), ("spider", "seeds"), ("yaml", seeds.read_text())]
        + [("setting", f"{k}={v}") for k, v in job_settings().items()],
    )["jobid"]
    kept = scrapyd.run_dir / "seeds" / PROJECT / f"{job}.yaml"
    scrapyd.wait(job)
    log = scrapyd.log(job)
    assert_clean(log)
    assert "Crawl report: seeds (finished)" in log
    assert not kept.exists()  # removed once the job ended
    assert seeds.read_text()[:200] not in scrapyd_log(scrapyd)  # nor is it in Scrapyd's log
    mongo = fresh_stores.open_mongo()
    try:
        run = next(r for r in mongo.latest_runs(3) if r["scrapyd_job"] == job)
        assert run["arguments"]["links"] == 2 and run["totals"]["new"] == 2
    finally:
        mongo.close()

    # `twin schedule` sends it too (this Scrapyd says, in twin.json, that it takes it).
    result = subprocess.run(
        [str(BIN / "twin"), "schedule", str(seeds), "--scrapyd", scrapyd.url]
        + [arg for k, v in job_settings().items() for arg in ("-s", f"{k}={v}")],
        env=scrapyd.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    again = result.stdout.split(": job ")[1].split()[0]
    scrapyd.wait(again)
    assert "Crawl report: seeds (finished)" in scrapyd.log(again)


def test_what_cannot_start_is_refused_at_once_or_finished_with_its_reason(
    scrapyd: Scrapyd, site: SiteServer, tmp_path: Path
) -> None:
    """Never "ok" for a job that cannot start: too long an argument or a bad job id is
    refused when scheduled; one queued some other way (here: straight into Scrapyd's
    queue, as an older Scrapyd or another tool would) is finished with its reason, and
    its slot is free again: with all four taken by such jobs, the next job still runs."""

    def schedule(*pairs: tuple[str, str], spider: str = "article", **fields: str) -> dict:
        data = [("project", PROJECT), ("spider", spider), *pairs, *fields.items()]
        response = requests.post(
            f"{scrapyd.url}/schedule.json", data=data, auth=(USER, scrapyd.password), timeout=60
        )
        return response.json()

    long_list = ",".join(site.url(f"/articles/n{n}/") for n in range(5000))
    answer = schedule(url=long_list)
    assert answer["status"] == "error", answer
    assert answer["message"].startswith("argument url is ")
    assert "at most 131,072 bytes per argument" in answer["message"]
    answer = schedule(url=site.url("/articles/latin1/"), jobid="../../escape")
    assert answer["status"] == "error" and answer["message"].startswith("jobid '../../escape'")
    each_fits = [("setting", f"CLOSESPIDER_ITEMCOUNT={'9' * 120_000}")] * 20  # 2.4 MB in all
    answer = schedule(*each_fits, url=site.url("/articles/latin1/"))
    assert answer["status"] == "error"
    assert answer["message"].startswith("the job's arguments and settings come to 2,40")
    huge = "author: Ada Quill\nlinks: [https://ada.example/]\n" + "#" * (10 * 1024 * 1024)
    answer = schedule(spider="seeds", yaml=huge)
    assert answer["status"] == "error"
    assert "over the 10,485,760 a job takes: split it" in answer["message"]
    assert not list((scrapyd.run_dir / "seeds" / PROJECT).glob("*.yaml"))
    assert scrapyd.get("listjobs.json", project=PROJECT)["pending"] == []

    from scrapyd.config import Config
    from scrapyd.spiderqueue import SqliteSpiderQueue

    queue = SqliteSpiderQueue(Config({"dbs_dir": str(scrapyd.run_dir / "dbs")}), PROJECT)
    lost = [f"lost{n}" for n in range(4)]  # scrapyd.conf's max_proc
    for job in lost:
        queue.add("article", _job=job, url=long_list)
    for job in lost:
        scrapyd.wait(job, timeout=60)
        assert "The job could not start: OSError: [Errno 7] Argument list too long" in (
            scrapyd.log(job)
        )
    assert "Job 'lost0' of 'twin_scraper' ('article') could not start" in scrapyd_log(scrapyd)
    after = scrapyd.schedule("article", job_settings(), url=site.url("/articles/latin1/"))
    scrapyd.wait(after, timeout=90)
    assert "Crawl report: article (finished)" in scrapyd.log(after)


def test_twin_schedule_refuses_a_big_seed_file_for_another_scrapyd(
    site: SiteServer, tmp_path: Path
) -> None:
    """A Scrapyd not started by `twin scrapyd` (no twin.json: here a plain web server)
    would put the content on a command line: refused before anything is sent."""
    seeds = padded_seeds(tmp_path, [site.url("/articles/latin1/")], 150 * 1024)
    result = subprocess.run(
        [str(BIN / "twin"), "schedule", str(seeds), "--scrapyd", site.url("/")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "bytes, too big for a job argument (a Scrapyd started by `twin scrapyd`" in message
    assert site.hits.get("/schedule.json") is None


def test_a_job_may_change_only_harmless_settings(
    scrapyd: Scrapyd, tmp_path: Path, fresh_stores: StoreConfig
) -> None:
    """What `setting=` could do to the server: send its GitHub token and LinkedIn cookie
    to another host, run a program as its browser, write files anywhere, store elsewhere,
    turn the pipelines off, crawl without bounds. Each is refused, in the job's log and
    its crawl report; the job stops before any request and exits with status 1. A crawl
    from a shell keeps every setting."""
    outside = tmp_path / "outside"
    ran = tmp_path / "ran"
    program = tmp_path / "chromium.sh"
    program.write_text(f"#!/bin/sh\ntouch {ran}\n")
    program.chmod(0o755)
    with SiteServer(SITE_DIR) as target, SiteServer(SITE_DIR) as elsewhere:
        refused = {
            "GITHUB_API_URL": elsewhere.url("/"),
            "LINKEDIN_BASE_URL": elsewhere.url("/"),
            "PLAYWRIGHT_LAUNCH_OPTIONS": json.dumps({"executable_path": str(program)}),
            "FEEDS": json.dumps({str(outside / "items.jl"): {"format": "jsonlines"}}),
            "HTTPCACHE_ENABLED": "true",
            "HTTPCACHE_DIR": str(outside / "cache"),
            "JOBDIR": str(outside / "job"),
            "ITEM_PIPELINES": "{}",
            "TWIN_DATA_DIR": str(outside / "data"),
            "CONCURRENT_REQUESTS": "1000",
        }
        post = target.url("/posts/sourdough-at-home/")
        job = scrapyd.schedule("article", job_settings(LOG_LEVEL="INFO", **refused), url=post)
        scrapyd.wait(job)
        assert target.hits == {} and elsewhere.hits == {}  # not one request
    log = scrapyd.log(job)
    for name in refused:
        assert f"ERROR: Refused setting {name}" in log, name
    assert "Refused setting CONCURRENT_REQUESTS=1000: must be a whole number from 1 to 32" in log
    assert "Refused setting LOG_LEVEL" not in log and "Refused setting AUTOTHROTTLE" not in log
    assert "Crawl report: article (refused_settings)" in log
    assert f"Process died: exitstatus=1 project='{PROJECT}' spider='article' job='{job}'" in (
        scrapyd_log(scrapyd)
    )
    assert not outside.exists() and not ran.exists()
    mongo = fresh_stores.open_mongo()
    try:
        (run,) = mongo.latest_runs(5)
        assert run["scrapyd_job"] == job and run["finish_reason"] == "refused_settings"
        assert [re.split("[=:]", p)[0] for p in run["refused_settings"]] == [
            f"setting {name}" for name in refused
        ]
        assert sum(mongo.count_documents().values()) == 0
    finally:
        mongo.close()

    # The same settings from a shell are the user's own choice.
    feed = tmp_path / "shell" / "items.jl"
    feeds = json.dumps({str(feed): {"format": "jsonlines"}})
    try:
        with SiteServer(SITE_DIR) as target:
            url = target.url("/posts/sourdough-at-home/")
            shell = subprocess.run(
                [
                    *(str(BIN / "scrapy"), "crawl", "article", "-a", f"url={url}"),
                    *("-s", f"FEEDS={feeds}", "-s", "ITEM_PIPELINES={}"),
                    *("-s", f"TWIN_DATA_DIR={tmp_path / 'shell'}"),
                ],
                cwd=REPO,
                env={**scrapyd.env, "TWIN_EMBED": "false"},
                capture_output=True,
                text=True,
                timeout=120,
            )
    finally:
        stop_server(tmp_path / "shell")  # the embedded MongoDB the crawl started
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert "Refused" not in shell.stderr
    assert len(feed.read_text().splitlines()) == 1  # the feed, written where it was asked


def test_a_sync_runs_as_a_scrapyd_job(
    scrapyd: Scrapyd, site: SiteServer, fresh_stores: StoreConfig
) -> None:
    """A sync whose runner is Scrapyd schedules a `seeds` job with its links; the job may
    carry the sync's name (TWIN_SYNC_ID is a setting a job may change), so its crawl report
    (in the server's stores) names the sync, as a local run's does."""
    from zoneinfo import ZoneInfo

    from twin_scraper.syncs import SyncRunner, SyncStore, new_sync

    config = fresh_stores
    settings = project_settings(
        {
            "SCRAPYD_URL": scrapyd.url,
            "SCRAPYD_USERNAME": USER,
            "SCRAPYD_PASSWORD": scrapyd.password,
        }
    )
    mongo = config.open_mongo()
    try:
        store = SyncStore(mongo)
        url = site.url("/articles/plain-essay/")
        store.add(new_sync("essay", url, "daily", ZoneInfo("UTC"), "Priya Raman", "scrapyd"))
        last = SyncRunner(store, config, settings).run("essay")
        assert "error" not in last, last
        scrapyd.wait(last["job"])
        log = scrapyd.log(last["job"])
        assert_clean(log)
        assert "Refused setting" not in log
        run = store.last_crawl_run("essay")
        assert run is not None and run["scrapyd_job"] == last["job"]
        assert run["finish_reason"] == "finished" and run["totals"]["new"] == 1
        # The sync's links went as a seed file's content, kept for the job on the server.
        assert run["arguments"]["file"] == f"seeds/{PROJECT}/{last['job']}.yaml"
        assert store.require("essay").last_run["job"] == last["job"]

        wrong = project_settings(settings.copy_to_dict() | {"SCRAPYD_PASSWORD": "guess"})
        failed = SyncRunner(store, config, wrong).run("essay")
        assert "refused the credentials" in failed["error"]
        assert store.require("essay").last_run["error"] == failed["error"]
    finally:
        mongo.close()
