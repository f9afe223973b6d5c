"""Qdrant: the feature store. A thin adapter over qdrant-client.

Local mode (`QdrantClient(path=...)`) admits one process at a time; a second one gets
`StoreUnavailable`, and its documents stay pending in MongoDB for `twin embed`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from twin_scraper.stores.mongo import StoreUnavailable, redact_uri

logger = logging.getLogger(__name__)

UPSERT_BATCH = 256  # points per upsert request

POINT_NAMESPACE = uuid.UUID("0b7f6c2e-2f0e-4d7c-8a53-8d1f3c9e4a21")


def point_id(doc_id: str, chunk_index: int, model: str) -> str:
    """Same document, chunk and model: same point, so re-embedding overwrites."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}/{chunk_index}/{model}"))


def collection_name(base: str, model: str) -> str:
    return f"{base}__{re.sub(r'[^A-Za-z0-9_-]+', '_', model)}"


class StoreBusy(StoreUnavailable):
    """Qdrant's local storage is held by another process (local mode admits one)."""


@dataclass(frozen=True)
class Hit:
    score: float
    payload: dict[str, Any]


class QdrantStore:
    """The chunk vectors of one model, in one collection."""

    def __init__(
        self, client: QdrantClient, collection: str, dim: int, where: str, remote: bool = False
    ) -> None:
        self.client = client
        self.remote = remote
        self.collection = collection
        self.dim = dim
        self.where = where
        self._ensure_collection()

    @classmethod
    def open(
        cls,
        url: str,
        api_key: str,
        local_path: str | Path,
        base_collection: str,
        model: str,
        dim: int,
    ) -> QdrantStore:
        name = collection_name(base_collection, model)
        where = redact_uri(url) if url else f"local storage {local_path}"
        try:
            if url:
                client = QdrantClient(url=url, api_key=api_key or None, timeout=30)
            else:
                Path(local_path).mkdir(parents=True, exist_ok=True)
                client = QdrantClient(path=str(local_path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreBusy(
                    f"Qdrant {where} is in use by another process (local mode admits one at a "
                    "time); documents stay pending: run `twin embed` when it is free, or use a "
                    "Qdrant server (QDRANT_URL)"
                ) from None
            raise StoreUnavailable(f"Qdrant {where} cannot be opened: {exc}") from None
        except Exception as exc:  # the client raises many transport and config types
            raise StoreUnavailable(f"Qdrant {where} cannot be opened: {exc}") from None
        try:
            return cls(client, name, dim, where, remote=bool(url))
        except Exception as exc:
            client.close()  # local mode: release the storage lock for the next user
            if isinstance(exc, StoreUnavailable):
                raise
            message = str(exc).replace(url, where) if url else str(exc)
            raise StoreUnavailable(
                f"Qdrant is unreachable at {where}: {type(exc).__name__}: {message}"
            ) from None

    def close(self) -> None:
        self.client.close()

    def _ensure_collection(self) -> None:
        if self.client.collection_exists(self.collection):
            size = self.client.get_collection(self.collection).config.params.vectors.size
            if size != self.dim:
                raise StoreUnavailable(
                    f"Qdrant collection {self.collection} holds {size}-wide vectors, the model "
                    f"makes {self.dim}: rebuild it with `twin embed --all`"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config=models.VectorParams(size=self.dim, distance=models.Distance.COSINE),
        )
        if not self.remote:
            return  # local mode searches by brute force; payload indexes do nothing there
        for field in ("doc_id", "author", "platform", "category"):
            self.client.create_payload_index(
                self.collection, field, models.PayloadSchemaType.KEYWORD
            )

    def replace_documents(
        self, doc_ids: Sequence[str], points: Sequence[models.PointStruct]
    ) -> None:
        """Drop every old point of these documents, then write the new ones: a document
        that shrank leaves no stale chunks behind."""
        if doc_ids:
            self.client.delete(
                self.collection,
                points_selector=models.FilterSelector(
                    filter=models.Filter(
                        must=[
                            models.FieldCondition(
                                key="doc_id", match=models.MatchAny(any=list(doc_ids))
                            )
                        ]
                    )
                ),
                wait=True,
            )
        # In slices: a large repository gives thousands of points, more than a Qdrant
        # server accepts in one request (32 MB by default).
        for start in range(0, len(points), UPSERT_BATCH):
            batch = list(points[start : start + UPSERT_BATCH])
            self.client.upsert(self.collection, points=batch, wait=True)

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        author: str | None = None,
        platform: str | None = None,
    ) -> list[Hit]:
        conditions = [
            models.FieldCondition(key=key, match=models.MatchValue(value=value))
            for key, value in (("author", author), ("platform", platform))
            if value
        ]
        response = self.client.query_points(
            self.collection,
            query=list(vector),
            limit=limit,
            query_filter=models.Filter(must=conditions) if conditions else None,
            with_payload=True,
        )
        return [Hit(point.score, point.payload or {}) for point in response.points]

    def authors(self, limit: int = 10_000) -> list[str]:
        """The authors whose chunks are stored (a facet: each once, whatever their count)."""
        if not self.count():
            return []
        response = self.client.facet(self.collection, key="author", limit=limit, exact=True)
        return [str(hit.value) for hit in response.hits]

    def count(self) -> int:
        return self.client.count(self.collection, exact=True).count
