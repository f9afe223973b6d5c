"""Items: one pydantic model for every document a spider yields.

Every platform fills the same `Document`, so validation, deduplication, storage and
embedding are written once. Platform-specific fields go into `extra`.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from twin_scraper.extract.markdown import markdown_to_text

#: Namespace for deterministic document ids: the same canonical URL always gives the same id,
#: so a re-run, a resumed job or a second process never creates a second copy.
DOCUMENT_NAMESPACE = uuid.UUID("6f1c3b0e-6a53-4b9e-9a57-1f3d1c2b7e10")


class Category(StrEnum):
    """MongoDB collection a document belongs to (as in the LLM-twin reference design)."""

    ARTICLES = "articles"
    POSTS = "posts"
    REPOSITORIES = "repositories"


class Quality(StrEnum):
    """Verdict of the quality gate; only OK documents are stored as content."""

    OK = "ok"
    CHALLENGE = "challenge"
    LOGIN_WALL = "login_wall"
    ERROR_PAGE = "error_page"
    EMPTY = "empty"


def full_name(value: str) -> str:
    """A person's name as stored and matched everywhere: words joined by single spaces, in
    Unicode's composed form (NFC), so "Zoë" typed or decomposed is one person."""
    return unicodedata.normalize("NFC", " ".join(value.split()))


def document_id(canonical_url: str) -> str:
    """Deterministic UUID (as a string: nx-27017 returns binary UUIDs as bytes)."""
    return str(uuid.uuid5(DOCUMENT_NAMESPACE, canonical_url))


def content_hash(*parts: str | None) -> str:
    """Hash of the extracted content, not of the HTML: page chrome that changes on every
    request (timestamps, tokens) must not make an unchanged article look edited."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


class SourceFile(BaseModel):
    """One text file of a repository, its content exactly as committed."""

    path: str
    content: str
    size: int = Field(ge=0, description="bytes")
    sha: str = Field(description="git blob id")
    language: str | None = None
    kind: Literal["code", "docs", "other"] = "other"


class Document(BaseModel):
    """One piece of the author's work, with its provenance."""

    model_config = ConfigDict(use_enum_values=True, validate_assignment=True)

    platform: str = Field(min_length=1)
    category: Category
    url: str = Field(min_length=1, description="URL the content was fetched from")
    canonical_url: str = Field(min_length=1)
    author_full_name: str = Field(description="whose corpus this belongs to")
    byline: str | None = Field(default=None, description="author as printed on the page")
    title: str | None = None
    subtitle: str | None = None
    content: str = Field(description="cleaned text as Markdown")
    language: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    fetched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    listed_updated_at: datetime | None = Field(
        default=None,
        description="last change as the site's feed or sitemap gave it: a re-crawl that "
        "finds the same date skips the page without fetching it",
    )
    extractor: str = Field(min_length=1)
    extractor_version: str = Field(min_length=1)
    truncated: bool = False
    authoritative: bool = Field(
        default=False,
        description="the body is the platform's own (an API, an export, a repository), not "
        "text extracted from HTML: the word floor, a guard against failed extraction, does "
        "not apply to it",
    )
    preview: str | None = Field(
        default=None,
        description="why only the beginning is there ('member-only', 'paid'): the platform "
        "serves visitors a preview; it is stored (with `truncated`) and reported as one",
    )
    quality: Quality = Quality.OK
    quality_reason: str | None = None
    http_status: int | None = None
    raw_html: str | None = Field(default=None, repr=False, description="kept for re-extraction")
    files: list[SourceFile] | None = Field(
        default=None,
        repr=False,
        description="a repository's text files, stored apart (one record each), so a "
        "repository of any size stores whole under MongoDB's 16 MB document limit",
    )
    extra: dict[str, Any] = Field(default_factory=dict)
    change: Literal["new", "updated"] | None = Field(
        default=None, exclude=True, description="set by deduplication, never stored"
    )

    @field_validator("author_full_name")
    @classmethod
    def _name_words(cls, value: str) -> str:
        name = full_name(value)
        if not name:
            raise ValueError("no author: the page names none, so pass the author's full name")
        return name

    @property
    def id(self) -> str:
        return document_id(self.canonical_url)

    @property
    def preview_reason(self) -> str | None:
        """ "member-only, preview only (37 words)": what the report says of a preview."""
        if not self.preview:
            return None
        return f"{self.preview}, preview only ({self.word_count} words)"

    @cached_property
    def word_count(self) -> int:
        """Words of the text itself: no Markdown marks, link URLs or image references."""
        return len(markdown_to_text(self.content).split())

    @cached_property
    def content_hash(self) -> str:
        """What makes a stored copy stale: the text, and what goes with every vector of it
        (title, author, date), so a corrected byline or date is written and re-embedded."""
        published = self.published_at.isoformat() if self.published_at else None
        parts = [
            self.title,
            self.subtitle,
            self.content,
            str(self.truncated),
            self.author_full_name,
            published,
        ]
        if self.files is not None:
            # A repository changes with any file (blob ids say it exactly) or head commit:
            # recording the new head keeps the next crawl from cloning it again.
            parts.append(self.extra.get("head_commit"))
            parts.extend(f"{f.path}\0{f.sha}" for f in self.files)
        return content_hash(*parts)

    def record(self, author_id: str | None = None) -> dict[str, Any]:
        """The stored form: every field plus the derived id, hash and word count, waiting
        to be embedded, without the raw HTML (stored apart, compressed) or a repository's
        files (stored apart, one record each)."""
        data = self.model_dump(exclude={"raw_html", "files"})
        data.update(
            _id=self.id,
            content_hash=self.content_hash,
            word_count=self.word_count,
            author_id=author_id,
            embed={"status": "pending"},
        )
        return data
