"""The smaller probes of issue 14: huge seed files, overlong links, huge limits, Unicode
author names, two crawls of the same pages at once, a corrupt embedded database, a lost
Qdrant folder. (Credentials in URLs: test_secrets.py; IPv6 literals: test_ssrf.py.)"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.reliability.helpers import add_articles, article_html, environment, own_data_dir, run
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.params import MAX_LIMIT, ArgumentError, ArticleParams, parse_params
from twin_scraper.seeds import MAX_SEED_FILE_BYTES, SeedFileError, load_seed_file, parse_seeds
from twin_scraper.stores.embedded_mongo import stop_server
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.mongo import MongoStore

# --- seed files -----------------------------------------------------------------------------


def test_a_huge_seed_file_is_refused_before_it_is_read(tmp_path: Path, settings: dict) -> None:
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:  # 11 MB of nothing: refused by its size alone
        handle.truncate(MAX_SEED_FILE_BYTES + 1_000_000)
    with pytest.raises(SeedFileError, match=r"is 11\.0 MB, over the 10 MB"):
        load_seed_file(huge)
    result = run(["twin_scraper.cli", "crawl", str(huge)], environment(settings))
    assert result.returncode == 1
    assert "over the 10 MB a seed file may be" in " ".join(result.stderr.split())
    with pytest.raises(SeedFileError, match="over the 10 MB"):
        parse_seeds("author: A B\nlinks: []\n" + " " * MAX_SEED_FILE_BYTES, "-a yaml")


def test_a_seed_file_is_parsed_once(tmp_path: Path) -> None:
    """`twin crawl` validates the file, then its seeds spider reads it: the same batch."""
    path = tmp_path / "ada.yaml"
    path.write_text("author: Ada Quill\nlinks:\n  - https://ada.example/posts/a/\n")
    first = load_seed_file(path)
    assert load_seed_file(path) is first
    path.write_text("author: Ada Quill\nlinks:\n  - https://ada.example/posts/bb/\n")
    changed = load_seed_file(path)
    assert changed is not first and changed.links[0].url == "https://ada.example/posts/bb/"


def test_a_limit_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    site = "https://ada.example/"
    assert parse_params(ArticleParams, "article", {"site": site, "limit": str(MAX_LIMIT)})
    with pytest.raises(ArgumentError, match="-a limit: must be at most 9223372036854775807"):
        parse_params(ArticleParams, "article", {"site": site, "limit": str(2**64)})
    with pytest.raises(SeedFileError, match=rf"whole number \(at most {MAX_LIMIT}\), got 1844"):
        parse_seeds(f"author: A B\nlinks:\n  - site: {site}\n    limit: {2**64}\n")


# --- overlong links -------------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_an_overlong_link_is_reported(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    (tmp_path / "site").mkdir()
    with SiteServer(tmp_path / "site") as site:
        long_post = site.url("/notes/" + "x" * 2100 + "/")
        site.routes["/"] = Route(
            b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
            b"</head><body>Notes</body></html>"
        )
        items = "".join(
            f"<item><title>t</title><link>{u}</link></item>"
            for u in (site.url("/notes/0/"), long_post)
        )
        site.routes["/feed.xml"] = Route(
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
            "application/rss+xml",
        )
        site.routes["/notes/0/"] = Route(article_html(0, site.base))
        seeds = tmp_path / "seeds.yaml"
        seeds.write_text(
            f"author: Rowan Vale\nlinks:\n  - {site.url('/')}\n  - url: {long_post}2\n"
        )
        await run_spider("seeds", settings, file=str(seeds))
    run_ = mongo.latest_runs(1)[0]
    failures = [f for d in run_["domains"] for f in d["failures"]]
    too_long = [f for f in failures if f["reason"] == "URL too long"]
    assert len(too_long) == 2  # the feed's link and the seed file's
    assert all("over URLLENGTH_LIMIT (2,083)" in f["detail"] for f in too_long)
    assert sum(mongo.count_documents().values()) == 1


# --- author names -----------------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_author_names_are_one_person_however_encoded(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    composed = "Zo\u00eb Quill"
    decomposed = "Zoe\u0308 Quill"
    assert composed != decomposed and unicodedata.normalize("NFC", decomposed) == composed
    (tmp_path / "site").mkdir()
    with SiteServer(tmp_path / "site") as site:
        for n, name in enumerate((composed, decomposed)):
            page = article_html(n, site.base).replace(b"Rowan Vale", name.encode())
            site.routes[f"/notes/{n}/"] = Route(page)
        urls = f"{site.url('/notes/0/')},{site.url('/notes/1/')}"
        await run_spider("article", settings, url=urls)  # no -a author: each page's byline
        await run_spider("article", settings, url=site.url("/notes/0/"), author=decomposed)
    names = {d["author_full_name"] for d in mongo.iter_documents()}
    assert names == {composed}
    assert [u["full_name"] for u in mongo.db.users.find()] == [composed]


# --- two crawls at once -----------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_two_crawls_of_the_same_pages_at_once_report_new_once(
    settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    """Both read what is stored before either writes; the second to write a page finds it
    stored meanwhile and reports it unchanged (or updated), not new."""
    (tmp_path / "site").mkdir()
    with SiteServer(tmp_path / "site", latency=0.2) as site:
        urls = ",".join(add_articles(site, 12))
        results = await asyncio.gather(
            run_spider("article", settings, url=urls), run_spider("article", settings, url=urls)
        )
    new = [sum(1 for i in r.items if i.change == "new") for r in results]
    unchanged = [sum(1 for _, e in r.dropped if "stored meanwhile" in str(e)) for r in results]
    assert sum(new) == 12
    assert sum(new) + sum(unchanged) == 24
    runs = mongo.latest_runs(2)
    assert sum(r["totals"]["new"] for r in runs) == 12
    assert mongo.count_documents()["articles"] == 12


# --- a damaged embedded database --------------------------------------------------------------


def test_a_corrupt_database_file_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = StoreConfig.from_settings(project_settings({"TWIN_DATA_DIR": str(data_dir)}))
    mongo = config.open_mongo()
    mongo.get_or_create_user("Ada Quill")
    mongo.close()
    stop_server(data_dir)
    database = data_dir / "mongo" / "twin.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with open(database, "r+b") as handle:  # the SQLite header, overwritten
        handle.write(b"this is not a database anymore!!" * 4)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(database).execute("select * from users").fetchall()
    env = environment(own_data_dir(data_dir, tmp_path / "model"))
    try:
        result = run(["twin_scraper.cli", "report"], env)
    finally:
        stop_server(data_dir)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert "is damaged (file is not a database)" in message
    assert str(database) in message
    assert "MongoDB is unreachable" not in message


# --- the Qdrant folder lost -------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_search_after_the_qdrant_folder_is_lost_advises_embed_all(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    await run_spider(
        "article",
        {**settings, "EMBED_ENABLED": True},
        url=site.url("/articles/plain-essay/"),
        author="Ada Quill",
    )
    assert mongo.count_embedded(MODEL_NAME) == 1
    shutil.rmtree(settings["QDRANT_PATH"])
    env = environment(settings)
    result = run(["twin_scraper.cli", "search", "essay"], env)
    message = " ".join(result.stderr.split())
    assert "holds no vectors, yet MongoDB records 1 document(s) as embedded" in message
    assert "`twin embed --all`" in message
    embed = run(["twin_scraper.cli", "embed"], env)
    assert "`twin embed --all`" in " ".join(embed.stderr.split())
