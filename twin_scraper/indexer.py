"""From stored documents to vectors: chunk, embed in batches, replace the points.

Shared by the crawl's embed pipeline and `twin embed`, so vectors are always rebuilt
from MongoDB alone the same way they were first made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from qdrant_client import models

from twin_scraper.chunking import chunk_text
from twin_scraper.code_chunking import chunk_code
from twin_scraper.extract.markdown import markdown_to_text
from twin_scraper.stores.embedder import Embedder
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.stores.qdrant import QdrantStore, point_id


@dataclass(frozen=True)
class Embedded:
    category: str
    id: str
    content_hash: str
    chunks: int


class Indexer:
    def __init__(
        self,
        embedder: Embedder,
        qdrant: QdrantStore,
        batch_size: int = 64,
        max_tokens: int = 200,
        overlap: int = 40,
    ) -> None:
        self.embedder = embedder
        self.qdrant = qdrant
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.overlap = overlap

    def chunks(self, record: dict[str, Any]) -> list[str]:
        """The document's chunks, sized so that title + chunk fit the model's window
        ([CLS] and [SEP] included): nothing is cut off silently."""
        (title_tokens,) = self.embedder.count_tokens([_context(record)])
        budget = min(self.max_tokens, self.embedder.max_tokens - 2 - title_tokens)
        return chunk_text(
            record.get("content") or "",
            self.embedder.count_tokens,
            budget,
            min(self.overlap, budget // 4),
        )

    def _pieces(self, record: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(payload text, text the vector sees, extra payload) for each chunk. The vector
        sees the words (and the title for context), not link URLs or Markdown marks; the
        payload keeps the Markdown. A repository (its `files` attached) gives its README,
        then its docs as text and its code cut along definitions."""
        context = _context(record)
        pieces = [
            (chunk, f"{context}\n\n{plain}" if context else plain, {})
            for chunk in self.chunks(record)
            for plain in [markdown_to_text(chunk)]
        ]
        files = record.get("files")
        if files is None:
            return pieces
        readme = (record.get("extra") or {}).get("readme_path")
        if readme:
            pieces = [(c, v, {"path": readme, "language": "Markdown"}) for c, v, _ in pieces]
        for file in files:
            if file["path"] == readme or file.get("kind") not in ("code", "docs"):
                continue
            # Each chunk's vector also sees where it comes from: repository and path.
            where = f"{context}\n{file['path']}"
            (where_tokens,) = self.embedder.count_tokens([where])
            budget = max(16, min(self.max_tokens, self.embedder.max_tokens - 2 - where_tokens))
            meta = {"path": file["path"], "language": file.get("language")}
            if file["kind"] == "docs":
                count, overlap = self.embedder.count_tokens, min(self.overlap, budget // 4)
                for chunk in chunk_text(file["content"], count, budget, overlap):
                    pieces.append((chunk, f"{where}\n\n{markdown_to_text(chunk)}", meta))
                continue
            for code in chunk_code(
                file["content"], file.get("language"), self.embedder.count_tokens, budget
            ):
                lines = {"start_line": code.start_line, "end_line": code.end_line}
                pieces.append((code.text, f"{where}\n\n{code.text}", meta | lines))
        return pieces

    def inputs(
        self, records: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[dict[str, Any]], list[Embedded]]:
        """What the model embeds for these documents (one text per chunk), each chunk's
        payload, and what each document gives."""
        texts: list[str] = []
        payloads: list[dict[str, Any]] = []
        done: list[Embedded] = []
        for record in records:
            pieces = self._pieces(record)
            title = record.get("title") or ""
            published = record.get("published_at")
            for index, (chunk, vector_text, extra) in enumerate(pieces):
                texts.append(vector_text)
                payloads.append(
                    {
                        "doc_id": record["_id"],
                        "chunk_index": index,
                        "text": chunk,
                        "author": record.get("author_full_name"),
                        "platform": record.get("platform"),
                        "category": record.get("category"),
                        "url": record.get("canonical_url"),
                        "title": title or None,
                        "published_at": published.isoformat() if published else None,
                        "model": self.embedder.name,
                        "content_hash": record.get("content_hash"),
                        **extra,
                    }
                )
            done.append(
                Embedded(record["category"], record["_id"], record["content_hash"], len(pieces))
            )
        return texts, payloads, done

    def index(self, records: Sequence[dict[str, Any]]) -> list[Embedded]:
        """Embed these stored documents, replacing any vectors they had."""
        texts, payloads, done = self.inputs(records)
        vectors = self.embedder.embed(texts, batch_size=self.batch_size) if texts else []
        points = [
            models.PointStruct(
                id=point_id(payload["doc_id"], payload["chunk_index"], self.embedder.name),
                vector=vector,
                payload=payload,
            )
            for payload, vector in zip(payloads, vectors, strict=True)
        ]
        self.qdrant.replace_documents([r["_id"] for r in records], points)
        return done

    def search(
        self, query: str, k: int, author: str | None = None, platform: str | None = None
    ) -> list[dict[str, Any]]:
        """The `k` best documents for a query, each as its best chunk's payload + score."""
        vector = self.embedder.embed([query])[0]
        hits = self.qdrant.search(vector, limit=k * 5, author=author, platform=platform)
        results: dict[str, dict[str, Any]] = {}
        for hit in hits:  # hits come best first: the first chunk seen is a document's best
            results.setdefault(hit.payload.get("doc_id", ""), {"score": hit.score, **hit.payload})
        return list(results.values())[:k]

    def index_stored(self, records: Sequence[dict[str, Any]], mongo: MongoStore) -> list[Embedded]:
        """Embed documents read from MongoDB, then mark them embedded there. A
        repository's files are read from MongoDB too (stored apart from its document)."""
        records = [
            record | {"files": mongo.repository_files(record["_id"])}
            if record.get("category") == "repositories" and "files" not in record
            else record
            for record in records
        ]
        done = self.index(records)
        mongo.mark_embedded(
            [(d.category, d.id, d.content_hash, d.chunks) for d in done], self.embedder.name
        )
        return done

    def index_pending(
        self,
        mongo: MongoStore,
        batch_docs: int,
        everything: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """Embed the stored documents without this model's vectors (every document, if
        asked), `batch_docs` at a time; returns (documents, chunks). `twin embed` and a
        crawl catching up after Qdrant was busy both use it. `progress` gets each batch's
        size once it is embedded."""
        documents = chunks = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal documents, chunks, batch
            chunks += sum(d.chunks for d in self.index_stored(batch, mongo))
            documents += len(batch)
            if progress is not None:
                progress(len(batch))
            batch = []

        for record in mongo.documents_to_embed(self.embedder.name, everything):
            batch.append(record)
            if len(batch) >= batch_docs:
                flush()
        if batch:
            flush()
        return documents, chunks


def _context(record: dict[str, Any]) -> str:
    """What each chunk's vector also sees: the document's title, at most 32 words."""
    return " ".join((record.get("title") or "").split()[:32])
