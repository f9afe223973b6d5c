"""The stored corpus: search it, embed it, re-extract it, export it, replay its journal."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo.errors import PyMongoError

from twin_scraper.atomic import atomic_write
from twin_scraper.items import full_name
from twin_scraper.services.workspace import NothingStored, ServiceError, Workspace
from twin_scraper.stores.journal import Journal, JournalStatus, ReplayResult
from twin_scraper.stores.mongo import MongoStore

#: Called with how many documents a step just finished (progress bars).
Advance = Callable[[int], None]


def platform_names() -> list[str]:
    from twin_scraper.platforms import ARTICLE, PLATFORMS

    return sorted(p.name for p in [ARTICLE, *PLATFORMS])


# --- search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    hits: list[dict[str, Any]]
    author: str | None  # as stored, when asked for
    platform: str | None
    #: Why there are no hits, naming the filter or the store that matched nothing.
    empty_because: str | None = None


def search(
    ws: Workspace,
    query: str,
    k: int = 5,
    author: str | None = None,
    platform: str | None = None,
) -> SearchResult:
    """The `k` best documents, each with its best chunk. The author is matched whatever
    its case and spacing; an unknown platform is refused before anything is opened."""
    if platform is not None:
        platform = platform.strip().lower()
        names = platform_names()
        if platform not in names:
            raise ServiceError(f"unknown platform {platform!r}: choose one of {', '.join(names)}")
    config = ws.config
    if not config.qdrant_url and not Path(config.qdrant_path).is_dir():
        lost = lost_vectors(ws, config.qdrant_path)
        if lost:
            raise ServiceError(lost)
        raise NothingStored(
            f"nothing is embedded in {config.qdrant_path} yet: crawl something first "
            "(`twin crawl URL`), run `twin embed`, or point at your data with "
            "`twin --data-dir DIR`"
        )
    with ws.indexer() as indexer:
        authors = indexer.qdrant.authors()
        wanted = author
        if author is not None:
            key = full_name(author).casefold()
            wanted = next((a for a in authors if a.casefold() == key), None)
            if wanted is None:
                known = ", ".join(sorted(authors)[:20]) or "none yet"
                return SearchResult(
                    [],
                    author,
                    platform,
                    f"no document by author {author!r} is embedded in {ws.qdrant_where()} "
                    f"(authors there: {known})",
                )
        hits = indexer.search(query, k, wanted, platform)
        reason = None
        if not hits:
            if not authors and (lost := lost_vectors(ws, indexer.qdrant.where)):
                raise ServiceError(lost)
            if not authors:
                reason = (
                    f"nothing is embedded in {ws.qdrant_where()} yet: crawl something "
                    "(`twin crawl URL`) or run `twin embed`"
                )
            elif platform is not None:
                by = f" by {wanted}" if wanted else ""
                reason = f"no document of platform {platform!r}{by} is embedded in " + (
                    ws.qdrant_where()
                )
        return SearchResult(hits, wanted, platform, reason)


def lost_vectors(ws: Workspace, where: str, mongo: MongoStore | None = None) -> str | None:
    """Qdrant empty while MongoDB says documents are embedded: its storage was lost (a
    deleted folder, a new server), and `twin embed` alone would find nothing pending."""
    from twin_scraper.stores.embedder import MODEL_NAME

    try:
        if mongo is not None:
            embedded = mongo.count_embedded(MODEL_NAME)
        else:
            with ws.mongo(reading=True) as store:
                embedded = store.count_embedded(MODEL_NAME)
    except ServiceError:
        return None
    if not embedded:
        return None
    return (
        f"Qdrant ({where}) holds no vectors, yet MongoDB records {embedded} document(s) as "
        "embedded: the vectors were lost (the Qdrant folder deleted or replaced, another "
        "server). Rebuild them from MongoDB with `twin embed --all`."
    )


# --- embedding ------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbedResult:
    documents: int
    chunks: int
    collection: str
    where: str
    replayed: ReplayResult | None = None
    #: Nothing was pending but Qdrant is empty while MongoDB says otherwise: the advice.
    lost_vectors: str | None = None


def count_to_embed(mongo: MongoStore, everything: bool) -> int:
    from twin_scraper.stores.embedder import MODEL_NAME

    return sum(mongo.count_documents().values()) if everything else mongo.count_to_embed(MODEL_NAME)


def embed(
    ws: Workspace,
    everything: bool = False,
    on_total: Callable[[int], None] | None = None,
    advance: Advance | None = None,
) -> EmbedResult:
    """Embed pending (or all) stored documents, after writing what the journal holds, so
    nothing a crawl kept during a MongoDB outage is left out."""
    with ws.mongo() as mongo:
        replayed = replay_journal(ws, mongo)
        return embed_with(ws, mongo, everything, on_total, advance, replayed)


def embed_with(
    ws: Workspace,
    mongo: MongoStore,
    everything: bool = False,
    on_total: Callable[[int], None] | None = None,
    advance: Advance | None = None,
    replayed: ReplayResult | None = None,
) -> EmbedResult:
    with ws.indexer() as indexer:
        if on_total is not None:
            on_total(count_to_embed(mongo, everything))
        documents, chunks = indexer.index_pending(
            mongo, ws.config.embed_batch_docs, everything, advance
        )
        lost = None
        if not everything and not documents and not indexer.qdrant.count():
            lost = lost_vectors(ws, indexer.qdrant.where, mongo)
        return EmbedResult(
            documents, chunks, indexer.qdrant.collection, indexer.qdrant.where, replayed, lost
        )


# --- re-extraction --------------------------------------------------------------------


@dataclass
class ReextractResult:
    changed: int = 0
    unchanged: int = 0
    kept: int = 0  # the page is not content by today's extractor: the document stays
    missing: int = 0  # no raw HTML stored (repositories, LinkedIn export posts)
    kept_why: list[tuple[str, str]] | None = None  # (canonical URL, reason)
    embedded: EmbedResult | None = None


def reextract(
    ws: Workspace,
    embed_after: bool = True,
    on_total: Callable[[int], None] | None = None,
    advance: Advance | None = None,
) -> ReextractResult:
    """Re-run extraction over the stored raw HTML; changed documents are rewritten and
    their vectors rebuilt. No page is fetched. A page the current extractor judges not to
    be content (a wall, an empty text) keeps its stored document."""
    from twin_scraper.items import Document
    from twin_scraper.pipelines.quality import rejection
    from twin_scraper.platforms import EXTRACTORS

    min_words = ws.settings().getdict("QUALITY_MIN_WORDS")
    result = ReextractResult(kept_why=[])
    with ws.mongo() as mongo:
        if on_total is not None:
            on_total(sum(mongo.count_documents().values()))
        for record in mongo.iter_documents():
            if advance is not None:
                advance(1)
            platform = EXTRACTORS.get(record.get("extractor", ""))
            raw = mongo.raw_page(record["_id"]) if platform else None
            if platform is None or raw is None:
                result.missing += 1
                continue
            fields = platform.fields(
                raw["html"],
                record["url"],
                record["author_full_name"],
                raw.get("http_status") or 200,
                record["fetched_at"],
            )
            # Identity and listing history are the stored document's, not the page's.
            fields["canonical_url"] = record["canonical_url"]
            fields["listed_updated_at"] = record.get("listed_updated_at")
            document = Document.model_validate(fields)
            if document.content_hash == record.get("content_hash"):
                result.unchanged += 1
                continue
            problem = rejection(document, min_words)
            if problem is not None:
                result.kept += 1
                result.kept_why.append((record["canonical_url"], problem[1]))
                continue
            mongo.write_documents([document.record(author_id=record.get("author_id"))], [])
            result.changed += 1
        if result.changed and embed_after:
            result.embedded = embed_with(ws, mongo)
    return result


# --- export ---------------------------------------------------------------------------


def export_line(record: dict[str, Any]) -> dict[str, Any]:
    """One document as a line of the fine-tuning corpus."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": record["_id"],
        "author": record.get("author_full_name"),
        "platform": record.get("platform"),
        "category": record.get("category"),
        "url": record.get("canonical_url"),
        "title": record.get("title"),
        "subtitle": record.get("subtitle"),
        "published_at": iso(record.get("published_at")),
        "language": record.get("language"),
        "word_count": record.get("word_count"),
        "truncated": record.get("truncated", False),
        "text": record.get("content", ""),
    }


def corpus_lines(mongo: MongoStore, author: str | None = None) -> Iterator[dict[str, Any]]:
    query = {"author_full_name": full_name(author)} if author else None
    for record in mongo.iter_documents(query):
        yield export_line(record)


def export_jsonl(ws: Workspace, out: Path, author: str | None = None) -> int:
    """Write the corpus as JSON Lines, one document a line; returns how many. The file is
    replaced only once the whole export is written: a failure leaves the previous one."""
    written = 0
    with ws.mongo(reading=True) as mongo:
        try:
            with atomic_write(out) as handle:
                for line in corpus_lines(mongo, author):
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    written += 1
        except PyMongoError as exc:
            raise ServiceError(
                f"MongoDB failed during the export at {mongo.where} ({type(exc).__name__}); "
                f"{out} is left as it was"
            ) from None
        except OSError as exc:
            raise ServiceError(
                f"cannot write {out}: {exc.strerror or exc}; it is left as it was"
            ) from None
    return written


# --- the journal ----------------------------------------------------------------------


def journal_status(ws: Workspace) -> tuple[Path, JournalStatus]:
    journal = Journal(ws.data_dir)
    return journal.directory, journal.status()


def replay_journal(ws: Workspace, mongo: MongoStore) -> ReplayResult | None:
    """Write what waits in the journal into MongoDB (safe to repeat); None if empty."""
    journal = Journal(ws.data_dir)
    if not journal.files():
        return None
    try:
        return journal.replay(mongo)
    except PyMongoError as exc:
        raise ServiceError(
            f"MongoDB failed while writing the journal ({type(exc).__name__}); what is not "
            f"written stays in {journal.directory}: run `twin journal replay` again"
        ) from None
