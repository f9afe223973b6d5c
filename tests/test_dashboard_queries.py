"""The dashboard's query functions over a real MongoDB (nx-27017 through pymongo): stored
documents and crawl reports in the shapes the pipelines and the report write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twin_scraper.items import Document
from twin_scraper.report import CrawlReport
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.web import queries

WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()


def document(
    url: str,
    words: int,
    published: datetime | None,
    author: str = "Ada Quill",
    platform: str = "article",
    category: str = "articles",
    **fields: Any,
) -> Document:
    text = " ".join(WORDS[i % len(WORDS)] for i in range(words))
    return Document(
        platform=platform,
        category=category,
        url=url,
        canonical_url=url,
        author_full_name=author,
        title=f"Title of {url.rsplit('/', 1)[-1]}",
        content=f"## Part\n\n{text}",
        published_at=published,
        extractor=platform,
        extractor_version="1",
        **fields,
    )


def store(mongo: MongoStore, docs: list[Document], embedded: dict[str, int]) -> None:
    """Write the documents as the Mongo pipeline does; mark some embedded (id -> chunks)."""
    mongo.write_documents([d.record() for d in docs], [])
    mongo.mark_embedded(
        [(d.category, d.id, d.content_hash, embedded[d.id]) for d in docs if d.id in embedded],
        MODEL_NAME,
    )


def at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 9, 30, tzinfo=UTC)


def corpus(mongo: MongoStore) -> list[Document]:
    docs = [
        document("https://ada.example/a", 120, at(2025, 1)),
        document("https://ada.example/b", 300, at(2025, 3)),  # February has nothing
        document("https://ada.example/c", 80, None),
        document(
            "https://medium.com/@ada/d",
            50,
            at(2025, 3, 20),
            platform="medium",
            truncated=True,
            preview="member-only",
        ),
        document(
            "https://ada.substack.com/p/e",
            60,
            at(2024, 12),
            platform="substack",
            truncated=True,
            preview="paid",
        ),
        document(
            "https://github.com/ada/f",
            500,
            at(2025, 1, 2),
            platform="github",
            category="repositories",
            truncated=True,  # cut by the text cap: truncated, yet not a preview
        ),
        document("https://paul.example/g", 40, at(2025, 1), author="Paul Iusztin"),
        document(
            "https://www.linkedin.com/feed/update/h",
            20,
            at(2025, 3, 5),
            platform="linkedin",
            category="posts",
        ),
    ]
    store(mongo, docs, {docs[0].id: 3, docs[1].id: 5, docs[5].id: 9, docs[6].id: 1})
    return docs


def test_corpus_summary_counts_per_author_platform_and_category(mongo: MongoStore) -> None:
    docs = corpus(mongo)
    summary = queries.corpus_summary(mongo)
    assert summary.documents == 8
    assert summary.words == sum(d.word_count for d in docs)
    assert summary.chunks == 3 + 5 + 9 + 1
    by_author = {t.key: (t.documents, t.words, t.chunks) for t in summary.by_author}
    paul = docs[6]
    assert by_author["Paul Iusztin"] == (1, paul.word_count, 1)
    assert by_author["Ada Quill"][0] == 7
    assert [t.key for t in summary.by_author] == ["Ada Quill", "Paul Iusztin"]  # most first
    by_platform = {t.key: t.documents for t in summary.by_platform}
    assert by_platform == {
        "article": 4,
        "medium": 1,
        "substack": 1,
        "github": 1,
        "linkedin": 1,
    }
    by_category = {t.key: t.documents for t in summary.by_category}
    assert by_category == {"articles": 6, "repositories": 1, "posts": 1}
    assert summary.truncated == 3
    assert summary.preview_only == 2  # the member-only story and the paid post, not the repo
    assert summary.pending_embedding == 4 == mongo.count_to_embed(MODEL_NAME)


def test_words_per_month_cover_every_month_and_undated_documents(mongo: MongoStore) -> None:
    docs = corpus(mongo)
    summary = queries.corpus_summary(mongo)
    months = {m: (n, w) for m, n, w in summary.months}
    assert list(months) == ["2024-12", "2025-01", "2025-02", "2025-03"]
    assert months["2025-02"] == (0, 0)
    january = [d for d in docs if d.published_at and f"{d.published_at:%Y-%m}" == "2025-01"]
    assert months["2025-01"] == (3, sum(d.word_count for d in january))
    assert summary.undated == 1
    assert queries.month_range(["2023-11", "2024-02"]) == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
    ]


def test_largest_and_newest_documents(mongo: MongoStore) -> None:
    docs = corpus(mongo)
    summary = queries.corpus_summary(mongo, top=3)
    assert [r.url for r in summary.largest] == [
        "https://github.com/ada/f",
        "https://ada.example/b",
        "https://ada.example/a",
    ]
    # Newest by publication date; the undated document counts by when it was stored (now).
    assert [r.url for r in summary.newest] == [
        "https://ada.example/c",
        "https://medium.com/@ada/d",
        "https://ada.example/b",
    ]
    row = next(r for r in summary.largest if r.url.endswith("/b"))
    assert row.embedded and row.words == docs[1].word_count and row.category == "articles"


def test_journaled_documents_are_counted(mongo: MongoStore, tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert queries.corpus_summary(mongo, journal).journaled == 0
    entries = [
        (document(f"https://ada.example/j{i}", 45, at(2025, 5)).record(), None, None)
        for i in range(3)
    ]
    journal.append(journal.new_file("run-1"), entries)
    assert queries.corpus_summary(mongo, journal).journaled == 3


def test_documents_are_found_and_listed_with_filters(mongo: MongoStore) -> None:
    docs = corpus(mongo)
    repo = queries.find_document(mongo, docs[5].id)
    assert repo is not None and repo["category"] == "repositories"
    assert queries.find_document(mongo, "no-such-id") is None
    rows, total = queries.list_documents(mongo, platform="article", limit=2)
    assert total == 4 and len(rows) == 2
    rows, total = queries.list_documents(mongo, author="Paul Iusztin")
    assert total == 1 and rows[0].url == "https://paul.example/g"
    rows, total = queries.list_documents(mongo, category="posts")
    assert [r.platform for r in rows] == ["linkedin"]


def run_record(started: datetime, spider: str, pages: list[tuple[str, str, str | None]]) -> dict:
    """A crawl report built by the report's own classes from (url, outcome, reason)."""
    report = CrawlReport()
    for url, outcome, reason in pages:
        report.record(url, outcome, reason, f"{reason} detail" if reason else None)
    return {
        "_id": f"run-{started:%Y%m%d%H%M%S}",
        "spider": spider,
        "started_at": started,
        "finished_at": started + timedelta(seconds=42),
        "finish_reason": "finished",
        **report.as_document(),
    }


def test_crawl_health_series_and_failures(mongo: MongoStore) -> None:
    start = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
    first = run_record(
        start,
        "article",
        [
            ("https://ada.example/a", "new", None),
            ("https://ada.example/b", "new", None),
            ("https://ada.example/x", "failed", "HTTP 404"),
            ("https://medium.com/@ada/s", "skipped", "another author"),
        ],
    )
    second = run_record(
        start + timedelta(days=1),
        "seeds",
        [
            ("https://ada.example/a", "unchanged", None),
            ("https://ada.example/b", "updated", None),
            ("https://ada.example/y", "failed", "challenge"),
        ],
    )
    second["sync_id"] = "ada"
    for run in (first, second):
        mongo.save_run(run)
    runs = queries.recent_runs(mongo)
    assert [r["_id"] for r in runs] == [second["_id"], first["_id"]]  # newest first

    row = queries.run_row(runs[0])
    assert row.sync_id == "ada" and row.duration == 42 and row.totals["attempted"] == 3

    series = {s.domain: s for s in queries.domain_series(runs)}
    ada = series["ada.example"]
    assert ada.runs == [queries.run_label(first), queries.run_label(second)]  # oldest first
    assert ada.attempted == [3, 3]
    assert ada.outcomes == {
        "new": [2, 0],
        "updated": [0, 1],
        "unchanged": [0, 1],
        "failed": [1, 1],
    }
    assert series["medium.com"].attempted == [1, 0]  # absent from the second run
    assert list(series) == ["ada.example", "medium.com"]  # most attempted first

    found = queries.failures(runs)
    assert [(f.url, f.reason, f.run_id) for f in found] == [
        ("https://ada.example/y", "challenge", second["_id"]),
        ("https://ada.example/x", "HTTP 404", first["_id"]),
    ]
    assert found[0].detail == "challenge detail"
    assert dict(queries.failure_reasons(runs)) == {
        "HTTP 404": 1,
        "challenge": 1,
        "another author": 1,
    }


def test_api_stats(mongo: MongoStore) -> None:
    empty = queries.api_stats(mongo)
    assert empty["documents"]["total"] == 0 and empty["last_crawl_run"] is None
    assert empty["documents"]["by_category"] == {"articles": 0, "posts": 0, "repositories": 0}
    corpus(mongo)
    run = run_record(
        datetime(2026, 5, 1, tzinfo=UTC), "article", [("https://a.example/", "new", None)]
    )
    mongo.save_run(run)
    stats = queries.api_stats(mongo)
    assert stats["documents"]["total"] == 8
    assert stats["documents"]["by_platform"]["article"] == 4
    assert stats["documents"]["by_category"] == {"articles": 6, "posts": 1, "repositories": 1}
    assert stats["pending_embeddings"] == 4
    assert stats["last_crawl_run"]["id"] == run["_id"]
    assert stats["last_crawl_run"]["duration_seconds"] == 42
    assert stats["last_crawl_run"]["started_at"] == "2026-05-01T00:00:00+00:00"


def test_running_crawls_ignore_records_no_longer_refreshed(mongo: MongoStore) -> None:
    now = datetime.now(UTC)
    collection = mongo.db[queries.PROGRESS]
    collection.insert_many(
        [
            {
                "_id": "live",
                "spider": "seeds",
                "sync_id": "ada",
                "started_at": now - timedelta(minutes=2),
                "updated_at": now - timedelta(seconds=2),
                "pages_done": 5,
                "pages_discovered": 20,
                "stored": 3,
                "dropped": 1,
            },
            {
                "_id": "killed",
                "spider": "article",
                "started_at": now - timedelta(hours=2),
                "updated_at": now - timedelta(hours=1),
                "pages_done": 1,
                "pages_discovered": 2,
            },
        ]
    )
    (live,) = queries.running_crawls(mongo, now)
    assert live.id == "live" and live.percent == 25 and live.sync_id == "ada"
    progress = queries.progress(mongo)
    assert [c["id"] for c in progress["crawls"]] == ["live"]
    assert progress["crawls"][0]["pages_discovered"] == 20
