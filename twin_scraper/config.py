"""Typed views of the settings, parsed once, and the stores they open.

Spiders, pipelines and the `twin` command all open stores through `StoreConfig`, so the
embedded defaults and the switches to real servers behave the same everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.settings import BaseSettings, Settings

from twin_scraper.stores.diskspace import free_space
from twin_scraper.stores.embedded_mongo import DB_DIR, EmbeddedMongoError, ensure_server
from twin_scraper.stores.mongo import MongoStore, StoreDamaged, StoreFull, StoreUnavailable
from twin_scraper.stores.private import private_dir

if TYPE_CHECKING:
    from twin_scraper.indexer import Indexer
    from twin_scraper.stores.embedder import Embedder

#: How often a Qdrant local storage held by another process is tried again.
BUSY_RETRY_SECONDS = 0.5


def project_settings(overrides: dict | None = None) -> Settings:
    """The project's settings (with environment overrides), plus `overrides` on top."""
    settings = Settings()
    settings.setmodule("twin_scraper.settings", priority="project")
    if overrides:
        settings.update(overrides, priority="cmdline")
    return settings


@dataclass(frozen=True)
class StoreConfig:
    data_dir: Path
    mongo_uri: str = field(repr=False)  # may hold a password
    mongo_database: str
    mongo_timeout_ms: int
    qdrant_url: str = field(repr=False)
    qdrant_api_key: str = field(repr=False)
    qdrant_path: Path
    qdrant_collection: str
    model_dir: Path
    model_auto_fetch: bool
    embed_threads: int
    embed_batch_size: int
    embed_batch_docs: int
    chunk_tokens: int
    chunk_overlap: int

    def __post_init__(self) -> None:
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ValueError(
                f"EMBED_CHUNK_OVERLAP ({self.chunk_overlap}) must be at least 0 and smaller than "
                f"EMBED_CHUNK_TOKENS ({self.chunk_tokens})"
            )

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StoreConfig:
        data_dir = Path(settings.get("TWIN_DATA_DIR")).expanduser().resolve()
        return cls(
            data_dir=data_dir,
            mongo_uri=settings.get("MONGO_URI") or "",
            mongo_database=settings.get("MONGO_DATABASE"),
            mongo_timeout_ms=settings.getint("MONGO_TIMEOUT_MS"),
            qdrant_url=settings.get("QDRANT_URL") or "",
            qdrant_api_key=settings.get("QDRANT_API_KEY") or "",
            qdrant_path=Path(settings.get("QDRANT_PATH") or data_dir / "qdrant").expanduser(),
            qdrant_collection=settings.get("QDRANT_COLLECTION"),
            model_dir=Path(settings.get("EMBED_MODEL_DIR")).expanduser(),
            model_auto_fetch=settings.getbool("EMBED_AUTO_FETCH"),
            embed_threads=settings.getint("EMBED_THREADS"),
            embed_batch_size=settings.getint("EMBED_BATCH_SIZE"),
            embed_batch_docs=settings.getint("EMBED_BATCH_DOCS"),
            chunk_tokens=settings.getint("EMBED_CHUNK_TOKENS"),
            chunk_overlap=settings.getint("EMBED_CHUNK_OVERLAP"),
        )

    def open_mongo(self) -> MongoStore:
        """MongoDB at MONGO_URI, or the embedded server for the data directory."""
        uri = self.mongo_uri
        if uri:
            return MongoStore(uri, self.mongo_database, self.mongo_timeout_ms)
        try:
            uri = ensure_server(self.data_dir)
        except EmbeddedMongoError as exc:
            raise StoreUnavailable(str(exc)) from None
        try:
            return MongoStore(uri, self.mongo_database, self.mongo_timeout_ms)
        except StoreFull:
            where = self.data_dir / DB_DIR
            raise StoreFull(
                f"No space left on the disk of {where} ({free_space(where)}): the embedded "
                "MongoDB cannot write there. Free some space, then run again"
            ) from None
        except StoreDamaged as exc:
            path = self.data_dir / DB_DIR / f"{self.mongo_database}.db"  # nx-27017's files mode
            raise StoreDamaged(
                f"{exc}. The embedded MongoDB keeps database {self.mongo_database!r} in "
                f"{path}, a SQLite file that is corrupt: stop the server (`twin mongo "
                "stop`), move the file aside (or restore it from a backup), and crawl again "
                "to rebuild it"
            ) from None

    def load_embedder(self) -> Embedder:
        """The embedding model (assembled on first use if allowed); raises ModelMissing."""
        from twin_scraper.stores.embedder import ensure_model, load_embedder

        return load_embedder(
            ensure_model(self.model_dir, self.model_auto_fetch), self.embed_threads
        )

    def open_indexer(self, wait: float = 0.0, embedder: Embedder | None = None) -> Indexer:
        """The model (assembled on first use if allowed; or `embedder`, loaded already) and
        Qdrant, ready to embed. Local Qdrant held by another process is tried again for up
        to `wait` seconds. Raises ModelMissing or StoreUnavailable (StoreBusy when still
        held) with the cause."""
        # Imported here: qdrant-client and fastembed take most of a second to import, and
        # most `twin` commands never embed.
        from twin_scraper.indexer import Indexer
        from twin_scraper.stores.qdrant import QdrantStore, StoreBusy

        if embedder is None:
            embedder = self.load_embedder()
        if not self.qdrant_url:
            private_dir(self.data_dir)  # before Qdrant's local storage is made in it
        deadline = time.monotonic() + wait
        while True:
            try:
                qdrant = QdrantStore.open(
                    self.qdrant_url,
                    self.qdrant_api_key,
                    self.qdrant_path,
                    self.qdrant_collection,
                    embedder.name,
                    embedder.dim,
                )
                break
            except StoreBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(BUSY_RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
        return Indexer(
            embedder, qdrant, self.embed_batch_size, self.chunk_tokens, self.chunk_overlap
        )
