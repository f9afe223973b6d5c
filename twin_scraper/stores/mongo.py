"""MongoDB: the raw store. A thin adapter over pymongo with the few operations we need.

Collections: `users`, one per category (`articles`, `posts`, `repositories`), `raw_pages`
(compressed HTML, kept apart so the hot documents stay small), `repository_files` (a
repository's text files, one record each: no 16 MB document limit on a repository) and
`crawl_runs`.
"""

from __future__ import annotations

import logging
import re
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
from bson import Binary
from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from twin_scraper.items import Category
from twin_scraper.urls import canonicalize_url

logger = logging.getLogger(__name__)

CATEGORIES = tuple(c.value for c in Category)
EMBED_DONE = "done"
FILES = "repository_files"
#: Files are inserted in batches of about this many bytes (well under a 48 MB message).
FILE_BATCH_BYTES = 8 * 1024 * 1024
FILE_NAMESPACE = uuid.UUID("5d0f3a1e-9c2b-4f64-8e1a-2b7c4d9e6f30")


def file_id(doc_id: str, path: str, sha: str) -> str:
    """Same repository, path and blob: same record, so an unchanged file is not rewritten."""
    return str(uuid.uuid5(FILE_NAMESPACE, f"{doc_id}\0{path}\0{sha}"))


class StoreUnavailable(RuntimeError):
    """A store cannot be reached; the message names it (without secrets) and what to do."""


_SECRET_PARAM = re.compile(
    r"(?i)([?&][^=&]*(?:password|secret|token|key|credential|authmechanismproperties)[^=&]*=)[^&]*"
)


def redact_uri(uri: str) -> str:
    """The URI with its password and secret-looking query values replaced, for messages."""
    try:
        parts = urlsplit(uri)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
        return _SECRET_PARAM.sub(r"\1***", urlunsplit(parts))
    except ValueError:
        return "<unparseable URI>"


class StoreFull(StoreUnavailable):
    """MongoDB answers, but has no disk space left."""


class StoreDamaged(StoreUnavailable):
    """MongoDB answers, but the database's files are damaged (the embedded server's SQLite
    file is corrupt)."""


_DAMAGED = re.compile(r"file is not a database|malformed|corrupt", re.IGNORECASE)


def refusal(where: str, database: str, exc: PyMongoError) -> StoreUnavailable:
    """Why a MongoDB that answers cannot serve `database`, as the error to raise."""
    from twin_scraper.stores.diskspace import is_disk_full

    details = getattr(exc, "details", None) or {}
    message = str(details.get("errmsg") or str(exc).split(", full error")[0])
    if is_disk_full(exc):
        return StoreFull(
            f"MongoDB at {where} has no disk space left ({message}): free some space, then "
            "run again"
        )
    if _DAMAGED.search(message):
        return StoreDamaged(
            f"MongoDB at {where} answers, but its database {database!r} is damaged ({message})"
        )
    return StoreUnavailable(
        f"MongoDB at {where} answers but refused to set up database {database!r}: "
        f"{type(exc).__name__}: {message}"
    )


@dataclass(frozen=True)
class KnownDocument:
    id: str
    category: str
    content_hash: str
    listed_updated_at: datetime | None = None


class MongoStore:
    """The raw documents of one database."""

    def __init__(self, uri: str, database: str, timeout_ms: int = 5000) -> None:
        self.where = redact_uri(uri)  # the URI itself is kept nowhere: it may hold a password
        try:
            self.client: pymongo.MongoClient = pymongo.MongoClient(
                uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, tz_aware=True
            )
        except (PyMongoError, ValueError) as exc:
            problem = str(exc).replace(uri, self.where)
            raise StoreUnavailable(f"MongoDB URI {self.where} is not valid: {problem}") from None
        self.db = self.client[database]
        try:
            self.client.admin.command("ping")
        except PyMongoError as exc:
            self.client.close()
            raise StoreUnavailable(
                f"MongoDB is unreachable at {self.where}: {type(exc).__name__}. Start it, "
                "or unset MONGODB_URI to use the embedded server."
            ) from None
        try:
            self._ensure_indexes()
        except PyMongoError as exc:  # it answers, but cannot use the database
            self.client.close()
            raise refusal(self.where, database, exc) from None

    def close(self) -> None:
        self.client.close()

    def _ensure_indexes(self) -> None:
        for name in CATEGORIES:
            collection = self.db[name]
            collection.create_index("canonical_url", unique=True)
            collection.create_index("content_hash")
            collection.create_index("embed.status")
            collection.create_index("author_id")
        self.db.raw_pages.create_index("doc_id")
        self.db[FILES].create_index("doc_id")
        self.db.users.create_index("full_name_key", unique=True)
        self.db.crawl_runs.create_index("started_at")

    # --- users ------------------------------------------------------------------------
    def get_or_create_user(self, full_name: str) -> dict[str, Any]:
        """The user with this full name, created on first sight (one or more words)."""
        words = full_name.split()
        key = " ".join(words).casefold()
        found = self.db.users.find_one({"full_name_key": key})
        if found:
            return found
        user = {
            "_id": str(uuid.uuid4()),
            "full_name": " ".join(words),
            "full_name_key": key,
            "first_name": " ".join(words[:-1]) if len(words) > 1 else words[0],
            "last_name": words[-1] if len(words) > 1 else "",
            "created_at": datetime.now(UTC),
        }
        try:
            self.db.users.insert_one(user)
        except DuplicateKeyError:  # another process created it meanwhile
            return self.db.users.find_one({"full_name_key": key}) or user
        return user

    # --- documents --------------------------------------------------------------------
    def known_documents(self) -> dict[str, KnownDocument]:
        """Every stored document by canonical URL, and also by the URL it was fetched from
        when that differs (a feed may list http:// where the page declares https://)."""
        known: dict[str, KnownDocument] = {}
        fetched: dict[str, KnownDocument] = {}
        fields = {"canonical_url": 1, "url": 1, "content_hash": 1, "listed_updated_at": 1}
        for category in CATEGORIES:
            for doc in self.db[category].find({}, fields):
                entry = KnownDocument(
                    doc["_id"], category, doc.get("content_hash", ""), doc.get("listed_updated_at")
                )
                known[doc["canonical_url"]] = entry
                fetched[canonicalize_url(doc.get("url") or "")] = entry
        return fetched | known

    def write_documents(
        self,
        docs: list[dict[str, Any]],
        raw: list[dict[str, Any]],
        files: dict[str, list[dict[str, Any]]] | None = None,
    ) -> dict[str, str]:
        """Write a batch: raw pages first, then repository files (`files`: doc id -> its
        complete file list), then documents by category (insert when new, replace when
        changed), then drop the raw versions they supersede. A failure at any step leaves
        every stored document with the raw HTML it came from; a repository whose
        document was not written keeps its old head commit, so the next crawl clones it
        again and completes its files.

        Returns what each document was when written: `new`, `updated`, or `unchanged`
        (stored with this very content meanwhile, by another crawl: not written again)."""
        if raw:
            self._insert_raw(raw)
        for doc_id, records in (files or {}).items():
            self._write_files(doc_id, records)
        now = datetime.now(UTC)
        by_category: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_category.setdefault(doc["category"], []).append(doc | {"stored_at": now})
        outcomes: dict[str, str] = {}
        for category, batch in by_category.items():
            outcomes |= self._upsert(self.db[category], batch)
        if raw:
            self.db.raw_pages.delete_many(
                {
                    "doc_id": {"$in": [r["doc_id"] for r in raw]},
                    "_id": {"$nin": [r["_id"] for r in raw]},
                }
            )
        return outcomes

    def _upsert(self, collection: Any, batch: list[dict[str, Any]]) -> dict[str, str]:
        """Inserts for new documents, replaces for changed ones, nothing for those stored
        with the same content: on nx-27017 inserts are several times faster than upserts.
        Ids are deterministic, so a document another process inserted meanwhile is found
        (then replaced, or left when it is the same) instead of failing."""
        stored = self._hashes(collection, [doc["_id"] for doc in batch])
        outcomes: dict[str, str] = {}
        written: list[dict[str, Any]] = []
        for doc in batch:
            outcomes[doc["_id"]] = _change(stored, doc)
            if outcomes[doc["_id"]] != "unchanged":
                written.append(doc)
        requests: list[Any] = [
            InsertOne(doc)
            if outcomes[doc["_id"]] == "new"
            else ReplaceOne({"_id": doc["_id"]}, doc)
            for doc in written
        ]
        if not requests:
            return outcomes
        try:
            collection.bulk_write(requests, ordered=False)
        except BulkWriteError as exc:
            conflicts = [
                written[e["index"]] for e in exc.details["writeErrors"] if e.get("code") == 11000
            ]
            if len(conflicts) != len(exc.details["writeErrors"]):
                raise
            meanwhile = self._hashes(collection, [doc["_id"] for doc in conflicts])
            replaces = []
            for doc in conflicts:
                outcomes[doc["_id"]] = _change(meanwhile, doc)
                if outcomes[doc["_id"]] == "updated":
                    replaces.append(ReplaceOne({"_id": doc["_id"]}, doc))
            if replaces:
                collection.bulk_write(replaces, ordered=False)
        return outcomes

    @staticmethod
    def _hashes(collection: Any, ids: list[str]) -> dict[str, str | None]:
        found = collection.find({"_id": {"$in": ids}}, {"content_hash": 1})
        return {d["_id"]: d.get("content_hash") for d in found}

    def _insert_raw(self, raw: list[dict[str, Any]]) -> None:
        """Raw pages are only ever inserted (nx-27017 cannot replace a document holding
        binary data); their ids carry the content hash, so a repeat is a no-op."""
        try:
            self.db.raw_pages.insert_many(raw, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details["writeErrors"]):
                raise

    def _write_files(self, doc_id: str, records: list[dict[str, Any]]) -> None:
        """Make the repository's stored files exactly `records`: new or changed files
        inserted (ids carry the blob id), files no longer in the tree deleted."""
        collection = self.db[FILES]
        present = {d["_id"] for d in collection.find({"doc_id": doc_id}, {"_id": 1})}
        new = [r for r in records if r["_id"] not in present]
        batch: list[dict[str, Any]] = []
        size = 0
        for record in new:
            batch.append(record)
            size += record.get("size", 0)
            if size >= FILE_BATCH_BYTES:
                self._insert_ignoring_duplicates(collection, batch)
                batch, size = [], 0
        if batch:
            self._insert_ignoring_duplicates(collection, batch)
        stale = present - {r["_id"] for r in records}
        if stale:
            collection.delete_many({"_id": {"$in": sorted(stale)}})

    @staticmethod
    def _insert_ignoring_duplicates(collection: Any, batch: list[dict[str, Any]]) -> None:
        try:
            collection.insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details["writeErrors"]):
                raise

    def repository_files(self, doc_id: str) -> list[dict[str, Any]]:
        """A repository's stored files, by path."""
        return list(self.db[FILES].find({"doc_id": doc_id}).sort("path", 1))

    def repository_heads(self) -> dict[str, str]:
        """The head commit stored with each repository, by canonical URL."""
        heads: dict[str, str] = {}
        for doc in self.db[Category.REPOSITORIES].find({}, {"canonical_url": 1, "extra": 1}):
            head = (doc.get("extra") or {}).get("head_commit")
            if head:
                heads[doc["canonical_url"]] = head
        return heads

    def fetched_at(self, categories: Iterable[str], ids: list[str]) -> dict[str, datetime]:
        """When each of these documents was fetched, for those that are stored."""
        found: dict[str, datetime] = {}
        for category in categories:
            for doc in self.db[category].find({"_id": {"$in": ids}}, {"fetched_at": 1}):
                found[doc["_id"]] = doc["fetched_at"]
        return found

    def record_listing(self, known: KnownDocument, listed_updated_at: datetime) -> None:
        """Remember a new listing date of an unchanged document (its content stays)."""
        self.db[known.category].update_one(
            {"_id": known.id}, {"$set": {"listed_updated_at": listed_updated_at}}
        )

    def mark_embedded(self, done: Iterable[tuple[str, str, str, int]], model: str) -> None:
        """Record (category, id, content hash, chunks) as embedded with `model`; the hash
        guards against marking a newer version of the document that was not embedded."""
        now = datetime.now(UTC)
        by_category: dict[str, list[Any]] = {}
        for category, doc_id, digest, chunks in done:
            by_category.setdefault(category, []).append(
                UpdateOne(
                    {"_id": doc_id, "content_hash": digest},
                    {
                        "$set": {
                            "embed": {
                                "status": EMBED_DONE,
                                "model": model,
                                "chunks": chunks,
                                "at": now,
                            }
                        }
                    },
                )
            )
        for category, requests in by_category.items():
            self.db[category].bulk_write(requests, ordered=False)

    def documents_to_embed(self, model: str, everything: bool = False) -> Iterator[dict[str, Any]]:
        """Documents whose vectors are missing or made by another model (all, if asked)."""
        query = {} if everything else _to_embed(model)
        for category in CATEGORIES:
            yield from self.db[category].find(query).sort("_id", 1)

    def count_embedded(self, model: str) -> int:
        """Documents recorded as embedded with `model`."""
        query = {"embed.status": EMBED_DONE, "embed.model": model}
        return sum(self.db[c].count_documents(query) for c in CATEGORIES)

    def count_to_embed(self, model: str) -> int:
        return sum(self.db[c].count_documents(_to_embed(model)) for c in CATEGORIES)

    def iter_documents(self, query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for category in CATEGORIES:
            yield from self.db[category].find(query or {}).sort("_id", 1)

    def count_documents(self) -> dict[str, int]:
        return {c: self.db[c].count_documents({}) for c in CATEGORIES}

    def raw_page(self, doc_id: str) -> dict[str, Any] | None:
        """The stored raw page with its HTML decompressed, or None."""
        raw = next(self.db.raw_pages.find({"doc_id": doc_id}).sort("fetched_at", -1).limit(1), None)
        if raw is None:
            return None
        raw["html"] = zlib.decompress(raw.pop("html_z")).decode("utf-8")
        return raw

    # --- crawl runs -------------------------------------------------------------------
    def save_run(self, run: dict[str, Any]) -> None:
        self.db.crawl_runs.replace_one({"_id": run["_id"]}, run, upsert=True)

    def latest_runs(self, limit: int = 1) -> list[dict[str, Any]]:
        return list(self.db.crawl_runs.find().sort("started_at", -1).limit(limit))

    def run_ids(self) -> list[str]:
        """Every stored run's id, newest first."""
        cursor = self.db.crawl_runs.find({}, {"_id": 1}).sort("started_at", -1)
        return [str(run["_id"]) for run in cursor]

    def run(self, run_id: str) -> dict[str, Any] | None:
        return self.db.crawl_runs.find_one({"_id": run_id})


def _change(stored: dict[str, str | None], doc: dict[str, Any]) -> str:
    if doc["_id"] not in stored:
        return "new"
    same = doc.get("content_hash") is not None and stored[doc["_id"]] == doc["content_hash"]
    return "unchanged" if same else "updated"


def _to_embed(model: str) -> dict[str, Any]:
    return {"$or": [{"embed.status": {"$ne": EMBED_DONE}}, {"embed.model": {"$ne": model}}]}


def compress_html(html: str) -> Binary:
    return Binary(zlib.compress(html.encode("utf-8"), 6))
