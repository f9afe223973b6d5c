"""The settings a service runs with, the stores they open, and where those live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.stores.embedded_mongo import DB_DIR
from twin_scraper.stores.mongo import MongoStore, StoreUnavailable, redact_uri

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from twin_scraper.indexer import Indexer


class ServiceError(RuntimeError):
    """What went wrong, said for the user (the CLI prints it without a traceback)."""


class NothingStored(ServiceError):
    """The data directory holds no data yet; the message names it."""


@dataclass(frozen=True)
class Workspace:
    """The project's settings plus `overrides` (the command line's `--data-dir` and such)."""

    overrides: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def at(cls, data_dir: Path | str | None = None, **overrides: Any) -> Workspace:
        if data_dir is not None:
            overrides["TWIN_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
        return cls(overrides)

    def settings(self, extra: dict[str, Any] | None = None) -> Settings:
        return project_settings({**self.overrides, **(extra or {})})

    @cached_property
    def config(self) -> StoreConfig:
        try:
            return StoreConfig.from_settings(self.settings())
        except ValueError as exc:
            raise ServiceError(str(exc)) from None

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def embedded_mongo(self) -> bool:
        return not self.config.mongo_uri

    def mongo_where(self) -> str:
        """Where documents are read and written, for messages (no password)."""
        if self.embedded_mongo:
            return f"the embedded MongoDB of {self.data_dir}"
        return f"MongoDB at {redact_uri(self.config.mongo_uri)}"

    def qdrant_where(self) -> str:
        if self.config.qdrant_url:
            return f"Qdrant at {redact_uri(self.config.qdrant_url)}"
        return f"Qdrant local storage {self.config.qdrant_path}"

    def has_embedded_data(self) -> bool:
        return (self.data_dir / DB_DIR).is_dir()

    def open_mongo(self, reading: bool = False) -> MongoStore:
        """MongoDB, embedded or real. `reading`: a command that only reads says that
        nothing is stored yet instead of starting an embedded server on an empty folder."""
        if reading and self.embedded_mongo and not self.has_embedded_data():
            raise NothingStored(
                f"nothing is stored in {self.data_dir} yet: crawl something first "
                "(`twin crawl URL`), or point at your data with `twin --data-dir DIR` "
                "(or TWIN_DATA_DIR)"
            )
        try:
            return self.config.open_mongo()
        except StoreUnavailable as exc:
            raise ServiceError(str(exc)) from None

    @contextmanager
    def mongo(self, reading: bool = False) -> Iterator[MongoStore]:
        store = self.open_mongo(reading)
        try:
            yield store
        finally:
            store.close()

    def open_indexer(self) -> Indexer:
        from twin_scraper.stores.embedder import ModelMissing

        try:
            return self.config.open_indexer()
        except (StoreUnavailable, ModelMissing) as exc:
            raise ServiceError(str(exc)) from None

    @contextmanager
    def indexer(self) -> Iterator[Indexer]:
        indexer = self.open_indexer()
        try:
            yield indexer
        finally:
            indexer.qdrant.close()
