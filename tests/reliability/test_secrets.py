"""Secrets never leak: with canary values in every credential the project knows
(GITHUB_TOKEN, LINKEDIN_LI_AT, SCRAPYD_PASSWORD, a password inside MONGODB_URI), no log
line, stat, report, stored item, export, file in the data directory or error message
contains one; nor does a stopped crawl's job directory.

To cover a new spider or command, add a row to CRAWLS or COMMANDS: every row runs as a
real process with all canaries set, and every output channel is searched.
"""

from __future__ import annotations

import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from bson import json_util

from tests.gitserver import GitServer, MockGitHub
from tests.reliability.helpers import add_articles, environment, own_data_dir, run, start
from tests.test_github import repo_json, serve_repo, serve_user
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.stores.embedded_mongo import stop_server

CANARIES = {
    "GITHUB_TOKEN": "ghp_CANARYgithub7Qx2Lr9",
    "LINKEDIN_LI_AT": "AQEDCANARYlinkedin4Fz8",
    "SCRAPYD_PASSWORD": "CANARYscrapyd5Kp1",
}
MONGO_PASSWORD = "CANARYmongo3Vw6"
#: A MongoDB that needs a password and cannot be reached: every command must fail
#: naming it without the password.
UNREACHABLE_URI = f"mongodb://twin:{MONGO_PASSWORD}@127.0.0.1:9/twin?authSource=admin"
SECRETS = [*CANARIES.values(), MONGO_PASSWORD]
LINKEDIN_EXPORT = Path(__file__).parents[1] / "fixtures" / "linkedin" / "export"
EXPORT = ["twin_scraper.cli", "export", "--author", "Rowan Vale"]  # the blog's 3 articles

Site = SiteServer
#: Crawls that must succeed with the canaries set: (name, arguments after `python -m`).
CRAWLS: list[tuple[str, Callable[[Site, Path], list[str]]]] = [
    (
        "article",
        lambda site, tmp: [
            "scrapy",
            "crawl",
            "article",
            "-a",
            f"url={site.url('/notes/0/')},{site.url('/notes/1/')},{site.url('/missing/')}",
            "-a",
            "author=Rowan Vale",
        ],
    ),
    ("seeds", lambda site, tmp: ["twin_scraper.cli", "crawl", "--resume", str(tmp / "seeds.yaml")]),
    (
        "linkedin export",
        lambda site, tmp: [
            *("scrapy", "crawl", "linkedin", "-a", f"export={LINKEDIN_EXPORT}"),
            *("-a", "author=Ada Quill"),
        ],
    ),
]
#: Commands run after the crawls (at once, so read-only ones only; `embed` runs first).
COMMANDS: list[list[str]] = [
    ["twin_scraper.cli", "search", "field note", "--json"],
    ["twin_scraper.cli", "report", "--last", "3"],
]
#: Commands that must fail cleanly when MongoDB (with a password) is unreachable.
FAILING: list[list[str]] = [
    ["scrapy", "crawl", "article", "-a", "url=http://127.0.0.1:9/x/"],
    ["twin_scraper.cli", "export", "--out", "/dev/null"],
]


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def stored_text(config: StoreConfig) -> str:
    """Everything in the database, raw pages decompressed, as JSON text."""
    mongo = config.open_mongo()
    try:
        parts = []
        for name in mongo.db.list_collection_names():
            for doc in mongo.db[name].find():
                if "html_z" in doc:
                    doc["html"] = zlib.decompress(doc.pop("html_z")).decode()
                parts.append(json_util.dumps(doc))
        return "\n".join(parts)
    finally:
        mongo.close()


def data_dir_text(root: Path) -> str:
    """Every file under the data directory, bytes as text (SQLite, Qdrant, journal, jobs,
    logs, saved reports)."""
    return "\n".join(
        path.read_bytes().decode("latin-1") for path in root.rglob("*") if path.is_file()
    )


def finish(process: subprocess.Popen, log: Path) -> str:
    process.wait(timeout=300)
    return log.read_text(errors="replace")


def test_no_secret_reaches_any_output(tmp_path: Path, model_dir: Path) -> None:
    data_dir = tmp_path / "data"
    settings = own_data_dir(data_dir, model_dir)
    env = environment(settings, **CANARIES)
    outputs: dict[str, str] = {}
    (tmp_path / "site").mkdir()
    try:
        with SiteServer(tmp_path / "site") as site:
            urls = add_articles(site, 3)
            site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
            (tmp_path / "seeds.yaml").write_text(f"author: Rowan Vale\nlinks:\n  - {urls[2]}\n")
            for name, command in CRAWLS:
                result = run(command(site, tmp_path), env)
                assert result.returncode == 0, result.stderr[-3000:]
                outputs[f"crawl {name}"] = result.stdout + result.stderr
        embed = run(["twin_scraper.cli", "embed"], env)
        assert embed.returncode == 0, embed.stderr[-2000:]
        outputs["embed"] = embed.stdout + embed.stderr
        export = tmp_path / "corpus.jsonl"
        running = [
            (" ".join(c), start(c, env, tmp_path / f"cmd{i}.log"), tmp_path / f"cmd{i}.log")
            for i, c in enumerate([*COMMANDS, [*EXPORT, "--out", str(export)]])
        ]
        broken = {**env, "MONGODB_URI": UNREACHABLE_URI}
        running += [
            (
                f"unreachable: {' '.join(c)}",
                start(c, broken, tmp_path / f"bad{i}.log"),
                tmp_path / f"bad{i}.log",
            )
            for i, c in enumerate(FAILING)
        ]
        for name, process, log in running:
            outputs[name] = finish(process, log)
            expected_failure = name.startswith("unreachable")
            assert (process.returncode != 0) == expected_failure, (name, outputs[name][-2000:])
            if expected_failure:
                assert "twin:***@127.0.0.1:9" in outputs[name], outputs[name][-2000:]
                if "twin_scraper.cli" in name:  # (scrapy prints its own traceback)
                    assert "Traceback" not in outputs[name], outputs[name][-3000:]
        outputs["export file"] = export.read_text()
        assert outputs["export file"].count("\n") == 3
        assert "Field note number" in outputs["crawl article"] + outputs["export file"]
        config = StoreConfig.from_settings(project_settings(settings))
        outputs["MongoDB (items, raw pages, reports with stats)"] = stored_text(config)
    finally:
        stop_server(data_dir)
    outputs["data directory files"] = data_dir_text(data_dir)
    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert found == {}
    # The checks can fail: the canaries really were in the environment of every process.
    assert run(["twin_scraper.cli", "--help"], env).returncode == 0
    assert all(env[name] == value for name, value in CANARIES.items())


@pytest.mark.parametrize("secret", SECRETS)
def test_the_leak_check_finds_a_canary(secret: str) -> None:
    assert leaks(f"log line with {secret} inside") == [secret]


def test_no_secret_stays_in_a_stopped_crawls_job_directory(tmp_path: Path, model_dir: Path) -> None:
    """A crawl stopped halfway (Ctrl-C, `twin crawl --resume`, Scrapyd's cancel) leaves its
    pending requests pickled in the job directory, for a resume. A GitHub crawl's requests
    go to the API, which gets GITHUB_TOKEN: the token is put on each one only while it is
    sent, so none of those files holds it."""
    data_dir = tmp_path / "data"
    jobdir = data_dir / "jobs" / "github-ada"
    settings = own_data_dir(data_dir, model_dir)
    api, git_server = MockGitHub(), GitServer(tmp_path / "git")
    try:
        serve_user(api, "ada")
        names = [f"ada/tool-{n}" for n in range(6)]
        for n, name in enumerate(names):
            git_server.create(name).commit({"README.md": f"# Tool {n}\n\nA small tool.\n"})
            serve_repo(api, repo_json(git_server, name))
        pages = [names[i : i + 2] for i in range(0, len(names), 2)]
        for n, page in enumerate(pages):
            path = "/users/ada/repos" if n == 0 else f"/users/ada/repos-{n}"
            link = {"Link": f'<{api.base}/users/ada/repos-{n + 1}>; rel="next"'}
            listing = [repo_json(git_server, name) for name in page]
            api.routes[path] = [(200, link if n + 1 < len(pages) else {}, listing)]
        command = [
            *("scrapy", "crawl", "github", "-a", "user=ada"),
            *("-s", f"JOBDIR={jobdir}", "-s", "CLOSESPIDER_PAGECOUNT=3"),
            *("-s", "CONCURRENT_REQUESTS=1", "-s", f"GITHUB_API_URL={api.base}"),
            *("-s", f"GITHUB_CLONE_URL={git_server.base}", "-s", "EMBED_ENABLED=false"),
        ]
        result = run(command, environment(settings, **CANARIES))
    finally:
        api.stop()
        git_server.stop()
        stop_server(data_dir)
    assert "Crawl report: github (closespider_pagecount)" in result.stderr, result.stderr[-3000:]
    # The crawl really stopped with requests to the API waiting on disk, and they had it.
    queued = data_dir_text(jobdir / "requests.queue")
    assert api.base.removeprefix("http://") in queued
    assert all(r["headers"].get("Authorization") == f"Bearer {CANARIES['GITHUB_TOKEN']}"
               for r in api.requests)  # fmt: skip
    assert leaks(data_dir_text(jobdir)) == []
    assert leaks(data_dir_text(data_dir)) == []
    assert leaks(result.stdout + result.stderr) == []


def test_a_password_in_a_url_is_never_logged_nor_stored(tmp_path: Path, model_dir: Path) -> None:
    """`user:password@` in a spider argument, a seed file or a redirect's Location: the
    page is fetched without it, and no log line, report or document holds the password."""
    passwords = ["CANARYarg6Tq", "CANARYseed2Wd", "CANARYhop8Lm"]
    data_dir = tmp_path / "data"
    settings = own_data_dir(data_dir, model_dir)
    env = environment(settings, TWIN_EMBED="false")
    (tmp_path / "site").mkdir()
    try:
        with SiteServer(tmp_path / "site") as site:
            add_articles(site, 3)
            site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
            with_password = [
                site.base.replace("://", f"://rowan:{p}@") + f"/notes/{n}/"
                for n, p in enumerate(passwords)
            ]
            site.routes["/go/"] = Route(b"", status=302, headers=(("Location", with_password[2]),))
            (tmp_path / "seeds.yaml").write_text(
                f"author: Rowan Vale\nlinks:\n  - url: {with_password[1]}\n"
            )
            urls = f"url={with_password[0]},{site.url('/go/')}"
            outputs = [
                run(["scrapy", "crawl", "article", "-a", urls], env),
                run(["twin_scraper.cli", "crawl", str(tmp_path / "seeds.yaml")], env),
            ]
            hits = {n: site.hits.get(f"/notes/{n}/") for n in range(3)}
        assert all(o.returncode == 0 for o in outputs), outputs[-1].stderr[-3000:]
        config = StoreConfig.from_settings(project_settings(settings))
        stored = stored_text(config)
    finally:
        stop_server(data_dir)
    assert hits == {0: 1, 1: 1, 2: 1}  # each page fetched, without the credentials
    assert stored.count("Field note number") >= 3
    everything = "\n".join(
        [stored, data_dir_text(data_dir), *(o.stdout + o.stderr for o in outputs)]
    )
    assert [p for p in passwords if p in everything] == []
