"""MongoDB going away mid-crawl: the crawl goes on, documents wait in the journal, and
every one is stored exactly once when MongoDB is back (this crawl, the next one, or
`twin journal replay`). Real servers: the embedded nx-27017 killed with SIGKILL, and a
"real" server at MONGODB_URI stopped and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pymongo
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.reliability.helpers import add_articles, crawl, environment, qdrant_points, run
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import SiteServer
from twin_scraper.stores.embedded_mongo import ensure_server, stop_server
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import MongoStore

PAGES = 30


def outage_settings(tmp_path: Path, model_dir: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "MONGO_DATABASE": "twin",
        "QDRANT_URL": "",
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "EMBED_MODEL_DIR": str(model_dir),
        "EMBED_AUTO_FETCH": False,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": 2,
        "MONGO_BATCH_SIZE": 2,
        "MONGO_TIMEOUT_MS": 1000,
        "MONGO_RETRY_FIRST_DELAY": 0.3,
        "MONGO_RETRY_MAX_DELAY": 1.0,
        "LOG_LEVEL": "INFO",
        **extra,
    }


def check_stored_once(mongo: MongoStore, urls: list[str]) -> list[dict[str, Any]]:
    docs = list(mongo.iter_documents())
    assert len(docs) == len(urls)
    assert Counter(d["canonical_url"] for d in docs) == Counter(u.rstrip("/") for u in urls)
    users = {u["_id"] for u in mongo.db.users.find()}
    for doc in docs:
        assert doc["author_id"] in users
        raw = mongo.raw_page(doc["_id"])
        assert raw is not None and "Field note number" in raw["html"]
    assert mongo.db.raw_pages.count_documents({}) == len(urls)
    return docs


def check_embedded_once(config: StoreConfig, mongo: MongoStore) -> None:
    """Everything pending gets embedded; every chunk is in Qdrant exactly once."""
    indexer = config.open_indexer()  # what `twin embed` runs
    try:
        indexer.index_pending(mongo, config.embed_batch_docs)
    finally:
        indexer.qdrant.close()
    docs = list(mongo.iter_documents())
    assert {d["embed"]["status"] for d in docs} == {"done"}
    points = qdrant_points(config)
    assert len(points) == len({p.id for p in points}) == sum(d["embed"]["chunks"] for d in docs)
    assert Counter(p.payload["doc_id"] for p in points) == {
        d["_id"]: d["embed"]["chunks"] for d in docs
    }


@deferred_f_from_coro_f
async def test_embedded_mongodb_killed_mid_crawl_is_restarted_and_loses_nothing(
    tmp_path: Path, model_dir: Path
) -> None:
    settings = outage_settings(tmp_path, model_dir)
    data_dir = Path(settings["TWIN_DATA_DIR"])
    ensure_server(data_dir)
    (tmp_path / "site").mkdir()
    try:
        with SiteServer(tmp_path / "site", latency=0.15) as site:
            urls = add_articles(site, PAGES)
            killed: list[int] = []

            def kill_mongo(item: Any) -> None:
                if not killed:
                    killed.append(json.loads((data_dir / "mongo.json").read_text())["pid"])
                    os.kill(killed[0], signal.SIGKILL)

            result = await crawl("article", settings, kill_mongo, url=",".join(urls))
        stats = result.stats
        assert killed and stats["finish_reason"] == "finished"
        assert stats["twin/mongo/outages"] == 1
        assert stats["twin/journal/written"] >= 1
        assert stats["twin/journal/replayed"] == stats["twin/journal/written"]
        assert stats["twin/journal/waiting"] == 0
        assert not Journal(data_dir).files()
        config = StoreConfig.from_settings(project_settings(settings))
        mongo = config.open_mongo()  # the embedded server, restarted by the crawl
        try:
            check_stored_once(mongo, urls)
            run_report = mongo.latest_runs(1)[0]
            totals = run_report["totals"]
            assert totals["new"] + totals["journaled"] == PAGES and totals["failed"] == 0
            assert totals["journaled"] == stats["twin/journal/written"]
            check_embedded_once(config, mongo)
        finally:
            mongo.close()
    finally:
        stop_server(data_dir)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    """A MongoDB the user runs themselves (nx-27017 here), at a fixed address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nx_27017.nx_27017", "--db", str(db), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.admin.command("ping")
            client.close()
            return process
        except pymongo.errors.PyMongoError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nx-27017 did not start")


@deferred_f_from_coro_f
async def test_a_server_that_stays_down_leaves_a_journal_the_next_crawl_writes(
    tmp_path: Path, model_dir: Path
) -> None:
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/"
    db = tmp_path / "user-mongo.sqlite"
    settings = outage_settings(tmp_path, model_dir, MONGO_URI=uri)
    data_dir = Path(settings["TWIN_DATA_DIR"])
    server = start_server(db, port)
    (tmp_path / "site").mkdir()
    try:
        with SiteServer(tmp_path / "site", latency=0.1) as site:
            urls = add_articles(site, PAGES)
            stopped: list[bool] = []

            def stop_mongo(item: Any) -> None:
                if not stopped:
                    stopped.append(True)
                    server.kill()
                    server.wait()

            first = await crawl("article", settings, stop_mongo, url=",".join(urls))
            stats = first.stats
            assert stopped and stats["finish_reason"] == "finished"
            waiting = stats["twin/journal/waiting"]
            assert waiting == stats["twin/journal/written"] > 0
            assert len(first.items) + waiting == PAGES
            # The report could not reach MongoDB either: it is kept as a file.
            (saved,) = data_dir.glob("crawl_run-*.json")
            totals = json.loads(saved.read_text())["totals"]
            assert totals["journaled"] == waiting and totals["failed"] == 0

            env = environment(
                {**settings, "MONGO_DATABASE": "twin"}, MONGODB_URI=uri, TWIN_EMBED="false"
            )
            status = run(["twin_scraper.cli", "journal", "status"], env)
            assert f"{waiting} document(s) in 1 journal file(s) wait" in status.stdout
            refused = run(["twin_scraper.cli", "journal", "replay"], env)
            assert refused.returncode == 1 and "MongoDB is unreachable" in refused.stderr
            assert len(Journal(data_dir).files()) == 1  # nothing lost by the failed replay

            server = start_server(db, port)  # the user starts MongoDB again
            again = await run_spider("article", settings, url=",".join(urls))
        assert not Journal(data_dir).files()
        assert again.stats.get("twin/items/unchanged") == PAGES  # written before the crawl read
        config = StoreConfig.from_settings(project_settings(settings))
        mongo = config.open_mongo()
        try:
            check_stored_once(mongo, urls)
            check_embedded_once(config, mongo)
        finally:
            mongo.close()
    finally:
        server.kill()
        server.wait()


def test_journal_replay_command_is_idempotent_and_skips_a_torn_line(
    tmp_path: Path, settings: dict, mongo: MongoStore
) -> None:
    from twin_scraper.items import Document
    from twin_scraper.pipelines.mongo import raw_record

    data_dir = tmp_path / "journal-data"
    journal = Journal(data_dir)
    path = journal.new_file("test")
    docs = [
        Document(
            platform="article",
            category="articles",
            url=f"https://rowan.example/notes/{n}/",
            canonical_url=f"https://rowan.example/notes/{n}",
            author_full_name="Rowan Vale",
            content=f"Note {n} " + "words " * 50,
            extractor="article",
            extractor_version="1",
            raw_html=f"<html><body>Note {n} with\x7f odd bytes é</body></html>",
        )
        for n in range(3)
    ]
    journal.append(path, [(d.record(), raw_record(d), None) for d in docs])
    journal.append(path, [(docs[0].record(), raw_record(docs[0]), None)])  # journaled twice
    with open(path, "a") as handle:
        handle.write('{"doc": {"_id": "cut sh')  # a crash mid-write
    uri = ensure_server(settings["TWIN_DATA_DIR"])  # the session's server, as a URI
    env = environment(settings, TWIN_DATA_DIR=str(data_dir), MONGODB_URI=uri)
    status = run(["twin_scraper.cli", "journal", "status"], env)
    assert "4 document(s) in 1 journal file(s)" in status.stdout
    assert "1 line(s) were cut short" in status.stdout
    replay = run(["twin_scraper.cli", "journal", "replay"], env)
    assert replay.returncode == 0, replay.stderr
    assert "Wrote 3 journaled document(s) into MongoDB from 1 journal file(s)" in " ".join(
        replay.stdout.split()
    )
    stored = {d["_id"]: d for d in mongo.iter_documents()}
    assert set(stored) == {d.id for d in docs}
    assert stored[docs[1].id]["author_id"] == mongo.get_or_create_user("Rowan Vale")["_id"]
    assert "odd bytes é" in (mongo.raw_page(docs[2].id) or {})["html"]
    assert "The journal is empty" in run(["twin_scraper.cli", "journal", "replay"], env).stdout
    # The same entries again (a replay interrupted before the file was deleted): no copies.
    journal.append(path, [(d.record(), raw_record(d), None) for d in docs[:2]])
    with open(path, "a") as handle:
        handle.write('{"doc": {"_id": "cut sh')
    journal.append(path, [(docs[2].record(), raw_record(docs[2]), None)])  # after a torn line
    assert journal.status().entries == 3
    assert journal.replay(mongo).documents == 3
    assert sum(mongo.count_documents().values()) == 3
    assert mongo.db.raw_pages.count_documents({}) == 3


def test_replay_never_overwrites_a_newer_stored_copy(mongo: MongoStore, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from twin_scraper.items import Document

    def doc(text: str, fetched: datetime) -> Document:
        return Document(
            platform="article",
            category="articles",
            url="https://rowan.example/n/",
            canonical_url="https://rowan.example/n",
            author_full_name="Rowan Vale",
            content=text,
            extractor="article",
            extractor_version="1",
            fetched_at=fetched,
        )

    now = datetime.now(UTC)
    old, new = doc("old text", now - timedelta(hours=1)), doc("new text", now)
    mongo.write_documents([new.record(author_id="x")], [])
    journal = Journal(tmp_path)
    journal.append(journal.new_file("old"), [(old.record(), None, None)])
    result = journal.replay(mongo)
    assert (result.documents, result.superseded) == (0, 1)
    (stored,) = mongo.iter_documents()
    assert stored["content"] == "new text"
