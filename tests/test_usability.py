"""A new user's first hour, through the command lines as real processes: where the data
is, one-shot commands (`twin crawl URL`, `twin md`, `twin map`), errors without
tracebacks, exit codes, progress, reports, moving the database, and the project files
other tools read (feed exports, docker-compose.yml)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import bson
import platformdirs
import yaml

from tests.test_cli import environment, run
from twin_scraper import __version__
from twin_scraper.config import project_settings
from twin_scraper.demo.server import SiteServer
from twin_scraper.items import Document
from twin_scraper.stores.mongo import MongoStore

REPO = Path(__file__).parent.parent


def twin(*args: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return run(["twin_scraper.cli", *args], env, cwd=cwd)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_help_version_and_one_well_known_data_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in {"TWIN_DATA_DIR", "XDG_DATA_HOME"}}
    env["HOME"] = str(home)
    for flag in ("--help", "-h"):
        shown = twin(flag, env=env)
        assert shown.returncode == 0 and "Usage:" in shown.stdout, shown.stderr
        assert "--data-dir" in shown.stdout and "crawl" in shown.stdout
    assert twin("crawl", "-h", env=env).returncode == 0
    version = twin("--version", env=env)
    assert version.returncode == 0 and version.stdout.strip() == f"twin_scraper {__version__}"

    # The same directory whatever the current folder: the platform's user data directory.
    expected = Path(platformdirs.user_data_dir("twin_scraper", appauthor=False))
    expected = home / expected.relative_to(Path.home())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (REPO, elsewhere):
        facts = json.loads(twin("info", "--json", env=env, cwd=cwd).stdout)
        assert facts["data_dir"] == str(expected)
        assert facts["mongodb"] == "embedded (nx-27017)" and facts["mongodb_running"] is None
    chosen = tmp_path / "mine"
    facts = json.loads(twin("--data-dir", str(chosen), "info", "--json", env=env).stdout)
    assert facts["data_dir"] == str(chosen) and facts["qdrant"] == str(chosen / "qdrant")


def test_empty_data_directory_is_named_and_no_server_is_started(tmp_path: Path) -> None:
    env = {**os.environ, "MONGODB_URI": "", "QDRANT_URL": ""}
    empty = tmp_path / "empty"
    for command in (["report"], ["report", "--list"], ["export", "--out", str(tmp_path / "x")]):
        result = twin("--data-dir", str(empty), *command, env=env)
        assert result.returncode == 0, result.stderr
        assert f"nothing is stored in {empty} yet" in flat(result.stdout)
    found = twin("--data-dir", str(empty), "search", "bread", env=env)
    assert f"nothing is embedded in {empty / 'qdrant'} yet" in flat(found.stdout)
    assert not empty.exists()  # nothing was started or created there


def test_twin_crawl_url_then_report_by_run_id_with_failed_urls(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    env = environment(settings)
    good = site.url("/articles/plain-essay/")
    missing = site.url("/articles/gone/")
    result = twin("crawl", good, missing, "--author", "Priya Raman", env=env)
    assert result.returncode == 0, result.stderr[-3000:]  # one page succeeded
    assert "2 link(s) for Priya Raman" in result.stdout
    (doc,) = mongo.iter_documents()
    assert doc["author_full_name"] == "Priya Raman"
    assert doc["title"] == "In Praise of Reading Slowly"
    run_id = re.search(r"run ([0-9a-f-]{36})", result.stdout).group(1)
    assert "Traceback" not in result.stderr

    shown = twin("report", run_id[:8], env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"Run {run_id}" in shown.stdout and "Failed URLs (1):" in shown.stdout
    assert re.search(rf"{re.escape(missing.rstrip('/'))}/?\s+HTTP 404", shown.stdout)
    as_json = json.loads(twin("report", run_id, "--json", env=env).stdout)
    assert as_json["run_id"] == run_id and as_json["totals"]["failed"] == 1
    assert [f["url"] for d in as_json["domains"] for f in d["failures"]] == [missing]
    listing = twin("report", "--list", env=env).stdout
    assert run_id in listing and "1 succeeded, 1 failed" in listing
    unknown = twin("report", "ffffffff", env=env)
    assert unknown.returncode == 1 and "no crawl report with run id 'ffffffff'" in unknown.stderr

    # Nothing succeeded: exit 1, saying so. Neither the URL nor a typo is taken for a file.
    failed = twin("crawl", "-q", missing, env=env)
    assert failed.returncode == 1
    assert "nothing succeeded: 1 page(s) attempted, 1 failed" in flat(failed.stderr)
    typo = twin("crawl", "blog.example", env=env)
    assert typo.returncode == 1 and "a URL needs its scheme: https://blog.example" in typo.stderr
    for bad in ("ftp://blog.example/", "https://"):
        refused = twin("crawl", bad, env=env)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr


def test_scrapy_crawl_prints_a_bad_argument_alone_and_fails_when_nothing_succeeded(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    env = environment(settings)
    bad = run(["scrapy", "crawl", "article", "-a", "bad=1"], env)
    assert bad.returncode == 2
    assert "error: article spider: -a bad: unknown argument" in bad.stderr
    assert "Traceback" not in bad.stderr
    seeds = run(["scrapy", "crawl", "seeds", "-a", f"file={REPO / 'nope.yaml'}"], env)
    assert seeds.returncode == 2 and "error: seed file not found" in seeds.stderr
    assert "Traceback" not in seeds.stderr

    missing = run(["scrapy", "crawl", "article", "-a", f"url={site.url('/articles/gone/')}"], env)
    assert missing.returncode == 1
    assert "error: nothing succeeded: 1 page(s) attempted, 1 failed" in flat(missing.stderr)
    good = run(["scrapy", "crawl", "article", "-a", f"url={site.url('/articles/german/')}"], env)
    assert good.returncode == 0, good.stderr[-2000:]


def test_crawl_progress_on_a_terminal_and_quiet_mode(
    tmp_path: Path, settings: dict, mongo: MongoStore
) -> None:
    from tests.reliability.helpers import add_articles

    env = environment(settings)
    (tmp_path / "site").mkdir()
    with SiteServer(tmp_path / "site", latency=0.4) as site:
        urls = add_articles(site, 12)
        terminal = {**env, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "200"}
        shown = twin("crawl", *urls, "--author", "Rowan Vale", env=terminal)
        assert shown.returncode == 0, shown.stderr[-3000:]
        live = re.findall(
            r"(\d+)/(\d+) pages, (\d+) stored, embedding (\d+) queued at ([\d.]+) doc/s"
            r"(, ETA \d+:\d\d)?",
            shown.stderr,
        )
        assert live, shown.stderr[-3000:]
        assert any(eta for *_, eta in live)  # pages still to go: an ETA
        assert "12 stored, 12 embedded: finished" in shown.stderr
        assert " INFO: " not in shown.stderr  # Scrapy's log lines stay out of the way

        quiet = twin("crawl", "-q", *urls, "--author", "Rowan Vale", env=env)
        assert quiet.returncode == 0, quiet.stderr[-3000:]
        assert "pages," not in quiet.stderr and "embedded: finished" not in quiet.stderr
        assert "12 succeeded (0 new, 0 updated, 12 unchanged)" in quiet.stdout


def test_search_validates_the_platform_matches_authors_in_any_case_and_names_the_filter(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    env = environment(settings)
    crawled = twin("crawl", "-q", site.url("/articles/code-heavy/"), "--author", "Priya Raman",
                   env=env)  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    query = "a script that finds dead links"
    typo = twin("search", query, "--platform", "articel", env=env)
    assert typo.returncode == 1
    assert "unknown platform 'articel': choose one of article, github, linkedin" in flat(
        typo.stderr
    )
    found = json.loads(twin("search", query, "--author", "priya  RAMAN", "--json", env=env).stdout)
    assert found and found[0]["author"] == "Priya Raman"
    nobody = twin("search", query, "--author", "Ada Quill", env=env)
    assert nobody.returncode == 0
    assert "no document by author 'Ada Quill' is embedded" in flat(nobody.stdout)
    assert "(authors there: Priya Raman)" in flat(nobody.stdout)
    other = twin("search", query, "--platform", "medium", env=env)
    assert "no document of platform 'medium' is embedded" in flat(other.stdout)


def test_md_prints_one_page_as_markdown_and_stores_nothing(
    site: SiteServer, tmp_path: Path
) -> None:
    env = {**os.environ, "TWIN_DATA_DIR": str(tmp_path / "data"), "MONGODB_URI": ""}
    page = twin("md", site.url("/articles/code-heavy/"), env=env)
    assert page.returncode == 0, page.stderr[-2000:]
    assert page.stdout.startswith("# Writing a Tiny Link Checker for My Hugo Blog\n")
    assert "```" in page.stdout and "import re\nimport sys" in page.stdout
    meta = json.loads(twin("md", site.url("/articles/code-heavy/"), "--json", env=env).stdout)
    assert meta["extractor"] == "article" and meta["published_at"].startswith("2025-09-14")
    wall = twin("md", site.url("/challenge/"), env=env)
    assert wall.returncode == 1 and "bot challenge page" in wall.stderr
    gone = twin("md", site.url("/articles/gone/"), env=env)
    assert gone.returncode == 1 and "answered HTTP 404" in gone.stderr
    assert not (tmp_path / "data").exists()  # nothing stored, no server started


def test_map_lists_what_a_crawl_would_fetch_without_fetching_posts(
    demo_site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    env = environment(settings)
    before = dict(demo_site.hits)
    result = twin("map", demo_site.url("/"), "--author", "Ada Quill", "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    posts = {url for url in found["posts"] if "/posts/" in url}
    # Every post of Ada's the feeds and sitemaps list; the guest's is skipped by its byline.
    assert len(posts) == 7 and not any("keyboards" in url for url in posts)
    assert demo_site.url("/feed.xml") in found["fetched"]
    assert demo_site.url("/sitemap.xml") in found["fetched"]
    fetched = {p: n - before.get(p, 0) for p, n in demo_site.hits.items()}
    assert not any(n for p, n in fetched.items() if p.startswith("/posts/"))  # none fetched
    assert sum(mongo.count_documents().values()) == 0 and mongo.latest_runs(1) == []
    text = twin("map", demo_site.url("/"), env=env).stdout
    assert "A crawl would fetch" in text and demo_site.url("/posts/sourdough-at-home/") in text


def test_mongo_dump_and_restore_move_the_corpus(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings)
    crawled = twin("crawl", "-q", site.url("/articles/german/"), site.url("/articles/latin1/"),
                   "--author", "P R", env=env)  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    out = tmp_path / "dump"
    dumped = twin("mongo", "dump", str(out), env=env)
    assert dumped.returncode == 0, dumped.stderr
    folder = out / settings["MONGO_DATABASE"]
    with open(folder / "articles.bson", "rb") as handle:  # mongodump's layout: BSON documents
        articles = list(bson.decode_file_iter(handle))
    assert {a["_id"] for a in articles} == {d["_id"] for d in mongo.iter_documents()}
    metadata = json.loads((folder / "articles.metadata.json").read_text())
    assert metadata["collectionName"] == "articles" and metadata["indexes"]

    target = f"{settings['MONGO_DATABASE']}_moved"
    restored = twin("mongo", "restore", str(folder), env={**env, "TWIN_MONGO_DATABASE": target})
    assert restored.returncode == 0, restored.stderr
    moved = mongo.client[target]
    try:
        for name in ("articles", "raw_pages", "users", "crawl_runs"):
            assert list(moved[name].find().sort("_id", 1)) == list(
                mongo.db[name].find().sort("_id", 1)
            ), name
        again = twin("mongo", "restore", str(folder), env={**env, "TWIN_MONGO_DATABASE": target})
        assert again.returncode == 0, again.stderr
        assert moved.articles.count_documents({}) == 2  # idempotent
    finally:
        mongo.client.drop_database(target)


def test_feed_exports_leave_the_raw_html_out(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    exported = set(project_settings().getlist("FEED_EXPORT_FIELDS"))
    assert exported == set(Document.model_fields) - {"raw_html", "change"}
    out = tmp_path / "docs.jsonl"
    url = site.url("/articles/plain-essay/")
    result = run(["scrapy", "crawl", "article", "-a", f"url={url}", "-O", str(out)],
                 environment(settings))  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert "raw_html" not in line and "<html" not in out.read_text().lower()
    assert line["title"] == "In Praise of Reading Slowly" and line["content"]
    assert mongo.raw_page(next(mongo.iter_documents())["_id"]) is not None  # kept there


def test_docker_compose_pins_a_qdrant_server_the_client_supports() -> None:
    from importlib.metadata import version

    from qdrant_client.common.version_check import is_compatible

    services: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    image, tag = services["qdrant"]["image"].split(":")
    assert image == "qdrant/qdrant" and re.fullmatch(r"v\d+\.\d+\.\d+", tag)
    assert is_compatible(version("qdrant-client"), tag.removeprefix("v"))


def test_scrapy_check_runs_every_spiders_contracts_on_saved_pages(tmp_path: Path) -> None:
    env = {**os.environ, "TWIN_DATA_DIR": str(tmp_path / "data")}
    listed = run(["scrapy", "check", "-l"], env)
    assert listed.returncode == 0, listed.stderr
    spiders = dict.fromkeys(("article", "github", "linkedin", "medium", "seeds", "substack"))
    for block in re.split(r"\n(?=\S)", listed.stdout.strip()):
        name, *methods = block.split("\n")
        spiders[name] = {m.strip(" *") for m in methods}
    assert spiders["article"] == {"parse_article"}
    assert spiders["medium"] == {"parse_medium_story"}
    assert spiders["substack"] == {"parse_substack_post", "parse_substack_page"}
    assert spiders["linkedin"] == {"parse_pulse"} and spiders["github"] == {"parse_github_owner"}
    checked = run(["scrapy", "check"], env)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert re.search(r"Ran (\d+) contracts", checked.stderr).group(1) == "30"
    assert checked.stderr.rstrip().endswith("OK")
    assert not (tmp_path / "data").exists()  # no store opened, no report stored
