"""What the dashboard shows, read from the stores: plain functions over `MongoStore` (and
the journal), so pages, `GET /api/stats` and tests see the same numbers.

One person's corpus is thousands of documents, not millions: summaries read the few
fields they need from every document once and count in Python, which behaves the same on
MongoDB and on nx-27017.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from twin_scraper.progress import COLLECTION as PROGRESS
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import CATEGORIES, EMBED_DONE, MongoStore

#: Outcomes of a crawl report, in the order pages and charts show them.
OUTCOMES = ("new", "updated", "unchanged", "skipped", "failed", "duplicate", "journaled")
#: A progress record not refreshed for this long belongs to a crawl that was killed.
PROGRESS_STALE = timedelta(seconds=30)
SUMMARY_FIELDS = {
    "title": 1,
    "canonical_url": 1,
    "platform": 1,
    "category": 1,
    "author_full_name": 1,
    "word_count": 1,
    "published_at": 1,
    "stored_at": 1,
    "truncated": 1,
    "preview": 1,
    "embed": 1,
}


@dataclass
class Tally:
    """Documents, words and embedded chunks of one author, platform or category."""

    key: str
    documents: int = 0
    words: int = 0
    chunks: int = 0

    def add(self, words: int, chunks: int) -> None:
        self.documents += 1
        self.words += words
        self.chunks += chunks


@dataclass(frozen=True)
class DocumentRow:
    id: str
    title: str
    url: str
    platform: str
    category: str
    author: str
    words: int
    published_at: datetime | None
    stored_at: datetime | None
    truncated: bool
    embedded: bool


@dataclass
class CorpusSummary:
    documents: int = 0
    words: int = 0
    chunks: int = 0
    by_author: list[Tally] = field(default_factory=list)
    by_platform: list[Tally] = field(default_factory=list)
    by_category: list[Tally] = field(default_factory=list)
    #: (YYYY-MM, documents, words) by publication month, every month from first to last.
    months: list[tuple[str, int, int]] = field(default_factory=list)
    undated: int = 0
    truncated: int = 0
    preview_only: int = 0  # a paywalled post stored as its free preview
    pending_embedding: int = 0
    journaled: int = 0
    largest: list[DocumentRow] = field(default_factory=list)
    newest: list[DocumentRow] = field(default_factory=list)


def embedded(record: dict[str, Any], model: str = MODEL_NAME) -> bool:
    embed = record.get("embed") or {}
    return embed.get("status") == EMBED_DONE and embed.get("model") == model


def is_preview(record: dict[str, Any]) -> bool:
    """Stored as the platform's preview (`preview`: a Medium member-only story, a paid
    Substack post), rather than cut by a size cap (`truncated` alone)."""
    return bool(record.get("preview"))


def document_row(record: dict[str, Any], model: str = MODEL_NAME) -> DocumentRow:
    return DocumentRow(
        id=record["_id"],
        title=record.get("title") or record.get("canonical_url") or "(untitled)",
        url=record.get("canonical_url") or "",
        platform=record.get("platform") or "",
        category=record.get("category") or "",
        author=record.get("author_full_name") or "",
        words=record.get("word_count") or 0,
        published_at=record.get("published_at"),
        stored_at=record.get("stored_at"),
        truncated=bool(record.get("truncated")),
        embedded=embedded(record, model),
    )


def corpus_summary(
    mongo: MongoStore, journal: Journal | None = None, model: str = MODEL_NAME, top: int = 10
) -> CorpusSummary:
    """Counts per author, platform and category, words per month, flags, and the largest
    and newest documents."""
    summary = CorpusSummary()
    tallies: dict[str, dict[str, Tally]] = {"author": {}, "platform": {}, "category": {}}
    months: Counter[str] = Counter()
    month_docs: Counter[str] = Counter()
    rows: list[DocumentRow] = []
    for category in CATEGORIES:
        for record in mongo.db[category].find({}, SUMMARY_FIELDS):
            record.setdefault("category", category)
            row = document_row(record, model)
            chunks = ((record.get("embed") or {}).get("chunks") or 0) if row.embedded else 0
            summary.documents += 1
            summary.words += row.words
            summary.chunks += chunks
            for kind, key in (
                ("author", row.author),
                ("platform", row.platform),
                ("category", row.category),
            ):
                tallies[kind].setdefault(key, Tally(key)).add(row.words, chunks)
            if row.published_at:
                month = f"{row.published_at:%Y-%m}"
                months[month] += row.words
                month_docs[month] += 1
            else:
                summary.undated += 1
            summary.truncated += row.truncated
            summary.preview_only += is_preview(record)
            summary.pending_embedding += not row.embedded
            rows.append(row)

    def ranked(kind: str) -> list[Tally]:
        return sorted(tallies[kind].values(), key=lambda t: (-t.documents, t.key))

    summary.by_author, summary.by_platform = ranked("author"), ranked("platform")
    summary.by_category = ranked("category")
    summary.months = [(m, month_docs[m], months[m]) for m in month_range(sorted(months))]
    summary.largest = sorted(rows, key=lambda r: (-r.words, r.title))[:top]
    epoch = datetime.min.replace(tzinfo=UTC)
    summary.newest = sorted(
        rows, key=lambda r: (r.published_at or r.stored_at or epoch, r.title), reverse=True
    )[:top]
    if journal is not None:
        summary.journaled = journal.status().entries
    return summary


def month_range(months: list[str]) -> list[str]:
    """Every month from the first to the last of these (sorted YYYY-MM), gaps included, so
    a chart's time axis is even."""
    if not months:
        return []
    year, month = map(int, months[0].split("-"))
    last = tuple(map(int, months[-1].split("-")))
    out = []
    while (year, month) <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def api_stats(mongo: MongoStore, journal: Journal | None = None) -> dict[str, Any]:
    """`GET /api/stats`: corpus counts and the last crawl run, as JSON-ready values."""
    summary = corpus_summary(mongo, journal, top=0)
    runs = mongo.latest_runs(1)
    return {
        "documents": {
            "total": summary.documents,
            "by_platform": {t.key: t.documents for t in summary.by_platform},
            "by_category": {c: 0 for c in CATEGORIES}
            | {t.key: t.documents for t in summary.by_category},
            "by_author": {t.key: t.documents for t in summary.by_author},
        },
        "words": summary.words,
        "chunks": summary.chunks,
        "truncated": summary.truncated,
        "preview_only": summary.preview_only,
        "pending_embeddings": summary.pending_embedding,
        "journaled": summary.journaled,
        "last_crawl_run": run_brief(runs[0]) if runs else None,
    }


def run_brief(run: dict[str, Any]) -> dict[str, Any]:
    row = run_row(run)
    return {
        "id": row.id,
        "spider": row.spider,
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "duration_seconds": row.duration,
        "finish_reason": row.finish_reason,
        "sync": row.sync_id,
        "totals": row.totals,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- documents ------------------------------------------------------------------------
def find_document(mongo: MongoStore, doc_id: str) -> dict[str, Any] | None:
    for category in CATEGORIES:
        record = mongo.db[category].find_one({"_id": doc_id})
        if record is not None:
            record.setdefault("category", category)
            return record
    return None


def list_documents(
    mongo: MongoStore,
    author: str | None = None,
    platform: str | None = None,
    category: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DocumentRow], int]:
    """One page of documents (newest first) matching the filters, and how many match."""
    query: dict[str, Any] = {}
    if author:
        query["author_full_name"] = author
    if platform:
        query["platform"] = platform
    rows = [
        document_row({"category": c, **record})
        for c in CATEGORIES
        if not category or c == category
        for record in mongo.db[c].find(query, SUMMARY_FIELDS)
    ]
    epoch = datetime.min.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.published_at or r.stored_at or epoch, r.title), reverse=True)
    return rows[offset : offset + limit], len(rows)


# --- crawl runs -----------------------------------------------------------------------
@dataclass(frozen=True)
class RunRow:
    id: str
    spider: str
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None
    finish_reason: str
    totals: dict[str, int]
    sync_id: str | None
    scrapyd_job: str | None
    arguments: dict[str, Any]
    embed_pending: int


def run_row(run: dict[str, Any]) -> RunRow:
    started, finished = run.get("started_at"), run.get("finished_at")
    return RunRow(
        id=run["_id"],
        spider=run.get("spider") or "",
        started_at=started,
        finished_at=finished,
        duration=(finished - started).total_seconds() if started and finished else None,
        finish_reason=run.get("finish_reason") or "",
        totals=run.get("totals") or {},
        sync_id=run.get("sync_id"),
        scrapyd_job=run.get("scrapyd_job"),
        arguments=run.get("arguments") or {},
        embed_pending=run.get("embed_pending", 0),
    )


def recent_runs(mongo: MongoStore, limit: int = 50) -> list[dict[str, Any]]:
    """The latest crawl reports, newest first."""
    return mongo.latest_runs(limit)


def find_run(mongo: MongoStore, run_id: str) -> dict[str, Any] | None:
    return mongo.db.crawl_runs.find_one({"_id": run_id})


@dataclass
class DomainSeries:
    """One domain's outcomes over runs (oldest first), for a stacked chart."""

    domain: str
    runs: list[str] = field(default_factory=list)  # run labels
    attempted: list[int] = field(default_factory=list)
    outcomes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def domain_series(runs: list[dict[str, Any]], top: int = 6) -> list[DomainSeries]:
    """Per domain (the `top` most attempted), attempted and each outcome per run, oldest
    run first; a run that did not touch the domain counts zero."""
    ordered = sorted(runs, key=lambda r: r.get("started_at") or datetime.min.replace(tzinfo=UTC))
    attempted: Counter[str] = Counter()
    for run in ordered:
        for domain in run.get("domains", []):
            attempted[domain["domain"]] += domain.get("attempted", 0)
    chosen = [d for d, _ in sorted(attempted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    series = {d: DomainSeries(d) for d in chosen}
    for run in ordered:
        label = run_label(run)
        by_domain = {d["domain"]: d for d in run.get("domains", [])}
        for name, item in series.items():
            domain = by_domain.get(name, {})
            item.runs.append(label)
            item.attempted.append(domain.get("attempted", 0))
            outcomes = domain.get("outcomes", {})
            for outcome in OUTCOMES:
                item.outcomes[outcome].append(outcomes.get(outcome, 0))
    for item in series.values():  # outcomes never seen in these runs are left out
        item.outcomes = {o: v for o, v in item.outcomes.items() if any(v)}
    return list(series.values())


def run_label(run: dict[str, Any]) -> str:
    started = run.get("started_at")
    when = f"{started:%m-%d %H:%M:%S}" if started else "?"
    return f"{when} {run.get('spider', '')}".strip()


@dataclass(frozen=True)
class Failure:
    run_id: str
    started_at: datetime | None
    spider: str
    domain: str
    url: str
    reason: str
    detail: str


def failures(runs: list[dict[str, Any]], limit: int = 500) -> list[Failure]:
    """The failed pages of these runs, newest run first, with their reasons and URLs."""
    found: list[Failure] = []
    for run in runs:
        for domain in run.get("domains", []):
            for failure in domain.get("failures", []):
                found.append(
                    Failure(
                        run_id=run["_id"],
                        started_at=run.get("started_at"),
                        spider=run.get("spider") or "",
                        domain=domain["domain"],
                        url=failure.get("url", ""),
                        reason=failure.get("reason", ""),
                        detail=failure.get("detail") or failure.get("reason", ""),
                    )
                )
                if len(found) >= limit:
                    return found
    return found


def failure_reasons(runs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Every reason of failure or skip in these runs with its count, most frequent first."""
    counts: Counter[str] = Counter()
    for run in runs:
        for domain in run.get("domains", []):
            counts.update(domain.get("reasons", {}))
    return counts.most_common()


# --- progress -------------------------------------------------------------------------
@dataclass(frozen=True)
class CrawlProgress:
    id: str
    spider: str
    sync_id: str | None
    started_at: datetime
    updated_at: datetime
    pages_done: int
    pages_discovered: int
    stored: int
    dropped: int

    @property
    def percent(self) -> int:
        if not self.pages_discovered:
            return 0
        return min(100, round(100 * self.pages_done / self.pages_discovered))


def running_crawls(mongo: MongoStore, now: datetime | None = None) -> list[CrawlProgress]:
    """Crawls under way, from the records they refresh (stale ones were killed)."""
    now = now or datetime.now(UTC)
    found = []
    for record in mongo.db[PROGRESS].find().sort("started_at", 1):
        if now - record.get("updated_at", record["started_at"]) > PROGRESS_STALE:
            continue
        found.append(
            CrawlProgress(
                id=record["_id"],
                spider=record.get("spider", ""),
                sync_id=record.get("sync_id"),
                started_at=record["started_at"],
                updated_at=record.get("updated_at", record["started_at"]),
                pages_done=record.get("pages_done", 0),
                pages_discovered=record.get("pages_discovered", 0),
                stored=record.get("stored", 0),
                dropped=record.get("dropped", 0),
            )
        )
    return found


def progress(mongo: MongoStore, model: str = MODEL_NAME) -> dict[str, Any]:
    """`GET /api/progress`: crawls under way and the embedding queue."""
    return {
        "crawls": [
            asdict(p)
            | {
                "started_at": p.started_at.isoformat(),
                "updated_at": p.updated_at.isoformat(),
                "percent": p.percent,
            }
            for p in running_crawls(mongo)
        ],
        "pending_embeddings": mongo.count_to_embed(model),
    }
