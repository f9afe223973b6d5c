"""The command lines users type: `scrapy crawl ...` and `twin ...`, as real processes
against sites on 127.0.0.1 and the session's embedded MongoDB."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from twin_scraper.config import StoreConfig
from twin_scraper.demo.server import SITE_DIR, SiteServer
from twin_scraper.services.corpus import search
from twin_scraper.services.workspace import Workspace
from twin_scraper.stores.mongo import MongoStore, compress_html
from twin_scraper.urls import canonicalize_url

REPO = Path(__file__).parent.parent
CODE_HEAVY_QUERY = "a script that finds dead hyperlinks on my static website"
TABBED_CODE = next(
    text
    for entry in json.loads((REPO / "tests" / "site" / "expected.json").read_text())
    for text in entry.get("contains", [])
    if text.startswith("import re\nimport sys")
)


def search_hits(settings: dict[str, Any], query: str, k: int, *filters: str | None) -> list:
    return search(Workspace(settings), query, k, *filters).hits


def paraphrases() -> list[tuple[str, str, str]]:
    """(slug, author, query) rows of the demo site's README table."""
    rows = re.findall(
        r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \| [^|]+ \| ([^|]+) \|$",
        (SITE_DIR / "README.md").read_text(),
        re.MULTILINE,
    )
    return [(slug, author.strip(), query.strip()) for slug, author, query in rows]


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """The test's settings as the environment variables a user would set."""
    return {
        **os.environ,
        "TWIN_DATA_DIR": settings["TWIN_DATA_DIR"],
        "TWIN_MONGO_DATABASE": settings["MONGO_DATABASE"],
        "TWIN_QDRANT_PATH": settings["QDRANT_PATH"],
        "TWIN_MODEL_DIR": settings["EMBED_MODEL_DIR"],
        "TWIN_MODEL_AUTO_FETCH": "false",
        "MONGODB_URI": "",
        "QDRANT_URL": "",
    }


def run(
    args: list[str], env: dict[str, str], timeout: float = 300, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def twin(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["twin_scraper.cli", *args], env)


def test_scrapy_crawl_then_search_export_and_report(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings)
    urls = f"{site.url('/articles/code-heavy/')},{site.url('/articles/plain-essay/')}"
    crawl = run(
        [
            "scrapy",
            "crawl",
            "article",
            "-a",
            f"url={urls}",
            "-a",
            "author=Priya Raman",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
        ],
        env,
    )
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "Crawl report: article (finished)" in crawl.stderr
    assert sum(mongo.count_documents().values()) == 2

    found = twin(["search", CODE_HEAVY_QUERY, "-k", "2", "--json"], env)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert results[0]["url"] == canonicalize_url(site.url("/articles/code-heavy/"))
    assert results[0]["author"] == "Priya Raman" and results[0]["text"]
    filtered = twin(["search", CODE_HEAVY_QUERY, "--author", "Someone Else", "--json"], env)
    assert filtered.returncode == 0 and json.loads(filtered.stdout) == []

    out = tmp_path / "corpus.jsonl"
    exported = twin(["export", "--out", str(out)], env)
    assert exported.returncode == 0 and "Wrote 2 document(s)" in exported.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["title"] for line in lines} == {
        "Writing a Tiny Link Checker for My Hugo Blog",
        "In Praise of Reading Slowly",
    }
    code = next(line for line in lines if "Link Checker" in line["title"])
    assert TABBED_CODE in code["text"]  # whitespace exactly as written
    assert code["author"] == "Priya Raman" and code["word_count"] > 500
    assert code["platform"] == "article" and code["published_at"].startswith("2025-09-14")

    report = twin(["report"], env)
    assert report.returncode == 0
    assert "Crawl report: article (finished)" in report.stdout
    assert re.search(r"total\s+│\s+2\s+│\s+2\s+│\s+2\b", report.stdout), report.stdout


def test_reextract_rebuilds_documents_from_stored_html_without_fetching(
    site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    env = environment(settings)
    url = site.url("/articles/tracking/")
    crawl = run(["scrapy", "crawl", "article", "-a", f"url={url}"], env)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    (doc,) = mongo.iter_documents()
    good_content = doc["content"]
    # As if an older extractor had produced worse text:
    mongo.db.articles.update_one(
        {"_id": doc["_id"]}, {"$set": {"content": "stale text", "content_hash": "old"}}
    )
    hits_before = dict(site.hits)
    result = twin(["reextract"], env)
    assert result.returncode == 0, result.stderr
    assert "1 changed, 0 unchanged" in result.stdout
    (again,) = mongo.iter_documents()
    assert again["content"] == good_content and again["embed"]["status"] == "done"
    assert site.hits == hits_before  # nothing fetched
    query = "being gentle when reviewing a colleague's pull request"
    hits = search_hits(settings, query, 1)
    assert hits[0]["text"] != "stale text" and hits[0]["doc_id"] == doc["_id"]
    assert "0 changed, 1 unchanged" in twin(["reextract"], env).stdout

    # A stored page that the extractor now finds to be a wall never replaces the document.
    challenge = (REPO / "tests" / "site" / "challenge" / "index.html").read_text()
    raw = mongo.raw_page(doc["_id"])
    assert raw is not None
    mongo.db.raw_pages.insert_one(
        {
            "_id": f"{doc['_id']}:wall",
            "doc_id": doc["_id"],
            "url": raw["url"],
            "html_z": compress_html(challenge),
            "fetched_at": datetime.now(UTC),
        }
    )
    walled = twin(["reextract"], env)
    assert "0 changed, 0 unchanged, 1 kept as stored" in walled.stdout
    assert "bot challenge page" in walled.stderr
    (kept,) = mongo.iter_documents()
    assert kept["content"] == good_content


def test_twin_crawl_runs_seed_files_and_refuses_broken_ones(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings)
    broken = tmp_path / "broken.yaml"
    broken.write_text("author: Priya\nlinks: [https://ok.example/a\n")
    result = twin(["crawl", str(broken)], env)
    assert result.returncode == 1
    assert f"seed file {broken} is not valid YAML" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr

    missing = run(["scrapy", "crawl", "seeds", "-a", f"file={tmp_path / 'nope.yaml'}"], env)
    assert missing.returncode != 0
    assert "seed file not found" in missing.stderr

    good = tmp_path / "priya.yaml"
    good.write_text(f"author: Priya Raman\nlinks:\n  - {site.url('/articles/german/')}\n")
    other = tmp_path / "camille.yaml"
    other.write_text(f"author: Camille Durand\nlinks:\n  - {site.url('/articles/latin1/')}\n")
    result = twin(["crawl", "--resume", str(good), str(other)], env)  # one reactor, two crawls
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 link(s) for Priya Raman" in result.stdout
    assert result.stderr.count("Crawl report: seeds (finished)") == 2
    docs = {d["language"]: d for d in mongo.iter_documents()}
    assert docs["de"]["author_full_name"] == "Priya Raman"
    assert docs["fr"]["author_full_name"] == "Camille Durand"
    jobs = Path(settings["TWIN_DATA_DIR"]) / "jobs"
    assert not any(jobs.glob("priya-*"))  # a finished job leaves no job directory behind
    hits = site.hits.get("/articles/german/", 0)
    again = twin(["crawl", "--resume", str(good)], env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert site.hits["/articles/german/"] == hits + 1  # fetched again, not filtered


def test_store_commands_name_an_unreachable_mongodb(settings: dict) -> None:
    env = {**environment(settings), "MONGODB_URI": "mongodb://u:hunter2@127.0.0.1:9/"}
    for command in (["embed"], ["report"], ["export", "--out", "/tmp/x.jsonl"], ["reextract"]):
        result = twin(command, env)
        assert result.returncode == 1
        message = " ".join(result.stderr.split())
        assert "MongoDB is unreachable at mongodb://u:***@127.0.0.1:9/" in message
        assert "hunter2" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


def test_schedule_refuses_a_linkedin_export_the_server_cannot_read(
    settings: dict, tmp_path: Path
) -> None:
    (tmp_path / "linkedin.zip").write_bytes(b"")
    seeds = tmp_path / "ada.yaml"
    seeds.write_text("author: Ada Quill\nlinks:\n  - linkedin_export: linkedin.zip\n")
    result = twin(
        ["schedule", str(seeds), "--scrapyd", "http://127.0.0.1:9"], environment(settings)
    )
    assert result.returncode == 1
    assert "names a LinkedIn export" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@deferred_f_from_coro_f
async def test_search_finds_each_demo_post_from_a_paraphrase(
    demo_site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    await run_spider("article", settings, site=demo_site.url("/"), author="Ada Quill")
    rows = paraphrases()
    assert len(rows) == 8
    for slug, author, query in rows:
        (best,) = search_hits(settings, query, 1, None, None)
        if author == "Ada Quill":
            assert best["url"].endswith(f"/posts/{slug}"), (query, best["url"])
        else:  # the guest post was not collected, so it cannot be found
            assert "keyboards" not in best["url"]
    only_ada = search_hits(settings, rows[0][2], 3, "Ada Quill", "article")
    assert only_ada and all(r["author"] == "Ada Quill" for r in only_ada)


def test_twin_demo_crawls_the_sample_blog_and_finds_the_sourdough_post(
    model_dir: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_MODEL_DIR": str(model_dir),
        "MONGODB_URI": "",
        "QDRANT_URL": "",
        # As a new user runs it: the demo allows the one address it serves by itself.
        "TWIN_ALLOW_PRIVATE": "",
    }
    result = twin(["demo"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = " ".join(result.stdout.split())
    assert "Results for 'how do I keep my starter alive" in out
    first = out.split("1. ", 1)[1]
    assert first.startswith("Baking Sourdough Bread at Home")
    assert "Crawl report: article (finished)" in result.stderr
    # the demo stops the embedded MongoDB it started
    assert not (tmp_path / "data" / "demo" / "mongo.json").exists()


def test_crawl_without_embedding_then_twin_embed_catches_up(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    env = {**environment(settings), "TWIN_EMBED": "false"}
    urls = f"{site.url('/articles/code-heavy/')},{site.url('/articles/german/')}"
    crawl = run(["scrapy", "crawl", "article", "-a", f"url={urls}", "-a", "author=P R"], env)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert "2 document(s) wait for embedding: run `twin embed`." in crawl.stderr
    assert mongo.latest_runs(1)[0]["embed_pending"] == 2
    assert {d["embed"]["status"] for d in mongo.iter_documents()} == {"pending"}

    embedded = twin(["embed"], env)
    assert embedded.returncode == 0, embedded.stderr
    assert "Embedded 2 document(s) into" in embedded.stdout
    assert {d["embed"]["status"] for d in mongo.iter_documents()} == {"done"}
    found = json.loads(twin(["search", CODE_HEAVY_QUERY, "-k", "1", "--json"], env).stdout)
    assert found[0]["url"] == canonicalize_url(site.url("/articles/code-heavy/"))
    assert "Embedded 0 document(s)" in twin(["embed"], env).stdout
