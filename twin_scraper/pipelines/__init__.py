"""Item pipelines, one job each: validate (100), canonical URL check (150), quality gate
(200), deduplicate (300), store in MongoDB (400), embed into Qdrant (500).

Drops raise a `DropItem` subclass, so the crawl report can tell a rejected page from an
unchanged one without parsing messages.
"""

from scrapy.exceptions import DropItem


class Invalid(DropItem):
    """The item does not satisfy the Document model."""


class Rejected(DropItem):
    """The quality gate refused it: bot challenge, login wall, error page, empty text."""


class Duplicate(DropItem):
    """Seen already in this run, or the same content under another URL."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="INFO")


class Unchanged(DropItem):
    """Stored before with the same content: nothing to write, nothing to embed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="DEBUG")


class Journaled(DropItem):
    """MongoDB was unreachable: the document waits in the local journal and is written
    when MongoDB is back (later in this crawl, at the next one, or `twin journal replay`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="WARNING")


class StoreFailed(DropItem):
    """MongoDB refused the write; the page is fetched again by the next run."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="ERROR")


class DiskFull(StoreFailed):
    """No space left: neither MongoDB nor the journal could keep the document. The crawl
    stops (finish reason `disk_full`); the page is fetched again by the next run."""
