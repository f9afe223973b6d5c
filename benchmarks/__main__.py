"""Every benchmark figure in one command, each against its baseline measured in the same run.

    python -m benchmarks [--quick] [--out FILE]

1. crawl throughput, embedding off: twin_scraper vs the baseline crawler
2. full pipeline wall time vs max(crawl without embedding, raw fastembed on its chunks)
3. embedding throughput inside the pipeline vs raw fastembed at its best batch size
4. peak resident memory of the crawl (process and children) at two sizes
5. re-crawl of the unchanged site: documents written, chunks embedded, share of wall time
6. extraction quality on ../shared/eval: our extractor vs plain trafilatura
7. start-up of the `twin` command (`--help`, `info`) vs importing what it used to import

Everything runs on 127.0.0.1: a generated blog (`benchmarks.site`) served with a
per-request latency by its own process; each crawl runs in its own process, with its own
embedded MongoDB started beforehand (a shared service, as a real MongoDB would be, so not
counted in the crawl's memory). Figures go to `benchmarks/results/<size>.json`.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks.eval_extraction import DEFAULT_EVAL_DIR
from benchmarks.site import generate_site
from benchmarks.startup import figure_startup
from twin_scraper.stores.embedded_mongo import ensure_server, stop_server

RESULTS_DIR = Path(__file__).parent / "results"
#: What the owner of a site would allow against it (figure 1's headline row): 32 requests
#: at once; AutoThrottle stays on, so a server that slows down still gets fewer.
OWN_SITE = ("CONCURRENT_REQUESTS_PER_DOMAIN=32", "AUTOTHROTTLE_TARGET_CONCURRENCY=32")


@dataclass(frozen=True)
class Sizes:
    throughput_pages: int  # figure 1, both crawlers
    memory_pages: tuple[int, int]  # figure 4
    embed_pages: int  # figures 2, 3 and 5
    batch_sizes: str  # figure 3's sweep of raw fastembed
    sweep_sample: int


SIZES = {
    "full": Sizes(1000, (1000, 5000), 100, "8,16,32,64,128", 256),
    "quick": Sizes(200, (200, 1000), 20, "8,16,32,64", 64),
}


@dataclass
class Run:
    """A measured subprocess: its JSON result, wall time and peak memory (with children)."""

    result: dict[str, Any]
    wall_seconds: float
    peak_rss_mb: float


def run_measured(args: list[str], out: Path) -> Run:
    """Run `python -m ...args`, sampling the resident memory of it and its children."""
    start = time.perf_counter()
    log = out.with_suffix(".out")
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", *args, "--out", str(out)], stdout=output, stderr=output
        )
        try:
            peak = _watch(process)
        finally:
            if process.poll() is None:  # interrupted: leave nothing running
                process.kill()
                process.wait()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"error: {' '.join(args)} failed ({process.returncode}):\n{tail}")
    result = json.loads(out.read_text())
    # The process's own ru_maxrss catches a peak between two samples.
    peak_mb = max(peak / 2**20, result.get("peak_rss_mb", 0.0))
    return Run(result, wall, peak_mb)


def _watch(process: subprocess.Popen[bytes]) -> int:
    """Wait for the process; its largest resident memory, children included, in bytes."""
    peak = 0
    watched = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass  # a child came and went between the listing and the reading
        time.sleep(0.05)
    return peak


@contextmanager
def served(root: Path, latency: float) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.serve", str(root), "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


class Bench:
    def __init__(self, work: Path, site: str, sizes: Sizes) -> None:
        self.work = work
        self.site = site
        self.sizes = sizes
        self.data_dirs: list[Path] = []
        self.count = 0

    def data_dir(self, name: str) -> Path:
        """A fresh data directory with its own embedded MongoDB, started now."""
        path = self.work / name
        path.mkdir()
        ensure_server(path)
        self.data_dirs.append(path)
        return path

    def out(self, name: str) -> Path:
        self.count += 1
        return self.work / f"{self.count:02d}-{name}.json"

    def ours(self, data_dir: Path, pages: int, embed: bool, *settings: str) -> Run:
        args = ["benchmarks.crawl", "--site", self.site, "--limit", str(pages)]
        args += ["--data-dir", str(data_dir)] + (["--no-embed"] if not embed else [])
        for setting in settings:
            args += ["-s", setting]
        label = f"ours-{pages}-{'embed' if embed else 'noembed'}"
        print(f"  crawl: twin_scraper, {pages} pages, embedding {'on' if embed else 'off'}")
        run = run_measured(args, self.out(label))
        stats = run.result["stats"]
        if stats.get("finish_reason") != "finished":
            raise SystemExit(f"error: crawl {label} ended with {stats.get('finish_reason')}")
        return run

    def baseline(self, pages: int, embed: bool = False) -> Run:
        print(f"  crawl: baseline, {pages} pages, embedding {'on' if embed else 'off'}")
        args = ["benchmarks.baseline", "--site", self.site, "--limit", str(pages)]
        args += ["--data-dir", str(self.data_dir(f"baseline-{pages}-{embed}"))]
        return run_measured(args + (["--embed"] if embed else []), self.out("baseline"))

    def close(self) -> None:
        for path in self.data_dirs:
            stop_server(path)


def stored(run: Run, key: str) -> int:
    return int(run.result["stats"].get(key, 0))


def figure_throughput(bench: Bench) -> tuple[dict[str, Any], Run]:
    """Pages stored per second: ours with the polite defaults and with the site owner's
    settings (`OWN_SITE`, the headline), against the baseline."""
    pages = bench.sizes.throughput_pages
    base = bench.baseline(pages)
    polite = bench.ours(bench.data_dir("throughput-defaults"), pages, embed=False)
    own = bench.ours(bench.data_dir("throughput-own-site"), pages, False, *OWN_SITE)
    base_rate = base.result["pages"] / base.result["seconds"]
    polite_rate, own_rate = (
        stored(r, "twin/mongo/written") / r.result["stats"]["elapsed_time_seconds"]
        for r in (polite, own)
    )
    return {
        "pages": pages,
        "ours_pages_per_second": own_rate,
        "ours_settings": list(OWN_SITE),
        "ours_documents_written": stored(own, "twin/mongo/written"),
        "ours_default_settings_pages_per_second": polite_rate,
        "ours_default_settings_ratio": polite_rate / base_rate,
        "baseline_pages_per_second": base_rate,
        "baseline_peak_rss_mb": base.peak_rss_mb,
        # CPU time per page (the whole process, start-up included): what a busy machine
        # cannot hide, as pages per second on a shared machine partly do.
        "ours_cpu_ms_per_page": 1000 * own.result["cpu_seconds"] / pages,
        "baseline_cpu_ms_per_page": 1000 * base.result["cpu_seconds"] / pages,
        "ratio": own_rate / base_rate,
        "target": ">= 20",
        "met": own_rate / base_rate >= 20,
    }, polite


def figure_memory(bench: Bench, first: Run | None) -> dict[str, Any]:
    small, large = bench.sizes.memory_pages
    if first is None or small != bench.sizes.throughput_pages:
        first = bench.ours(bench.data_dir("memory-small"), small, embed=False)
    second = bench.ours(bench.data_dir("memory-large"), large, embed=False)
    growth = second.peak_rss_mb / first.peak_rss_mb - 1
    return {
        "pages": [small, large],
        "peak_rss_mb": [first.peak_rss_mb, second.peak_rss_mb],
        "documents_written": [stored(r, "twin/mongo/written") for r in (first, second)],
        "growth": growth,
        "target": "< 600 MB at the larger size, growth < 10%",
        "met": second.peak_rss_mb < 600 and growth < 0.10,
    }


def figures_embedding(bench: Bench) -> dict[str, dict[str, Any]]:
    pages = bench.sizes.embed_pages
    plain = bench.ours(bench.data_dir("crawl-only"), pages, embed=False)
    full_dir = bench.data_dir("full")
    full = bench.ours(full_dir, pages, embed=True)
    print(f"  raw fastembed over the same chunks (batch sizes {bench.sizes.batch_sizes})")
    raw_run = run_measured(
        [
            "benchmarks.embedding",
            "--data-dir",
            str(full_dir),
            "--database",
            "bench",
            "--batch-sizes",
            bench.sizes.batch_sizes,
            "--sample",
            str(bench.sizes.sweep_sample),
        ],
        bench.out("raw-fastembed"),
    )
    raw = raw_run.result
    full_seconds = full.result["stats"]["elapsed_time_seconds"]
    plain_seconds = plain.result["stats"]["elapsed_time_seconds"]
    larger = max(plain_seconds, raw["seconds"])
    chunks = stored(full, "twin/qdrant/points")
    busy = float(full.result["stats"].get("twin/embed/seconds", 0.0)) or float("nan")
    in_pipeline = chunks / busy
    again = bench.ours(full_dir, pages, embed=True)
    everything = bench.ours(full_dir, pages, True, "ARTICLE_TRUST_LISTING_DATES=false")
    again_seconds = again.result["stats"]["elapsed_time_seconds"]
    written, embedded = stored(again, "twin/mongo/written"), stored(again, "twin/qdrant/points")
    return {
        "2_full_pipeline": {
            "pages": pages,
            "chunks": chunks,
            "full_pipeline_seconds": full_seconds,
            "crawl_without_embedding_seconds": plain_seconds,
            "raw_fastembed_seconds": raw["seconds"],
            "full_pipeline_peak_rss_mb": full.peak_rss_mb,
            "raw_fastembed_peak_rss_mb": raw_run.peak_rss_mb,
            "ratio": full_seconds / larger,
            "target": "<= 1.15",
            "met": full_seconds / larger <= 1.15,
        },
        "3_embedding_throughput": {
            "chunks": chunks,
            "in_pipeline_chunks_per_second": in_pipeline,
            "pipeline_busy_seconds": busy,
            "crawl_chunks_per_second": chunks / full_seconds,
            "raw_chunks_per_second": raw["chunks_per_second"],
            "raw_best_batch_size": raw["best_batch_size"],
            "raw_sweep": raw["sweep_chunks_per_second"],
            "raw_chunks_checked": raw["chunks"],
            "ratio": in_pipeline / raw["chunks_per_second"],
            "target": ">= 0.90",
            "met": in_pipeline / raw["chunks_per_second"] >= 0.90,
        },
        "5_recrawl": {
            "pages": pages,
            "documents_written": written,
            "chunks_embedded": embedded,
            "seconds": again_seconds,
            "first_crawl_seconds": full_seconds,
            "ratio": again_seconds / full_seconds,
            "process_seconds": [full.wall_seconds, again.wall_seconds],
            "without_listing_dates": {
                "pages_fetched": stored(everything, "item_scraped_count")
                + stored(everything, "twin/items/unchanged"),
                "documents_written": stored(everything, "twin/mongo/written"),
                "chunks_embedded": stored(everything, "twin/qdrant/points"),
                "seconds": everything.result["stats"]["elapsed_time_seconds"],
                "ratio": everything.result["stats"]["elapsed_time_seconds"] / full_seconds,
            },
            "target": "0 written, 0 embedded, <= 0.20",
            "met": written == 0 and embedded == 0 and again_seconds / full_seconds <= 0.20,
        },
    }


def figure_extraction(work: Path, eval_dir: Path) -> dict[str, Any]:
    if not (eval_dir / "score.py").is_file():
        return {"skipped": f"no evaluation set at {eval_dir}"}
    print("  extraction: ours vs trafilatura on the evaluation set")
    out = work / "extraction.json"
    command = ["benchmarks.eval_extraction", "--eval-dir", str(eval_dir), "--json", str(out)]
    subprocess.run(
        [sys.executable, "-m", *command],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    results = json.loads(out.read_text())
    ours, theirs = results["ours"]["mean_f1"], results["trafilatura"]["mean_f1"]
    return {
        "pages": results["ours"]["pages"],
        "ours_mean_f1": ours,
        "trafilatura_mean_f1": theirs,
        "ours_raw_markdown_mean_f1": results["ours_raw_markdown"]["mean_f1"],
        "ratio": ours / theirs,
        "seconds": results["seconds"],
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as a table: ours, the reference, their ratio, the target."""
    f1, f2 = figures["1_throughput"], figures["2_full_pipeline"]
    f3, f4 = figures["3_embedding_throughput"], figures["4_memory"]
    f5, f6 = figures["5_recrawl"], figures["6_extraction"]
    f7 = figures["7_startup"]
    rows = [
        (
            f"1. crawl pages/s, {f1['pages']} pages, no embedding",
            f"{f1['ours_pages_per_second']:.1f}",
            f"{f1['baseline_pages_per_second']:.2f} baseline",
            f"{f1['ratio']:.1f}x",
            ">= 20x",
            f1["met"],
        ),
        (
            "   CPU ms per page (process total)",
            f"{f1['ours_cpu_ms_per_page']:.0f}",
            f"{f1['baseline_cpu_ms_per_page']:.0f} baseline",
            "",
            "",
            None,
        ),
        (
            "   the same with the polite defaults",
            f"{f1['ours_default_settings_pages_per_second']:.1f}",
            "",
            f"{f1['ours_default_settings_ratio']:.1f}x",
            "",
            None,
        ),
        (
            f"2. full pipeline s, {f2['pages']} pages, {f2['chunks']} chunks",
            f"{f2['full_pipeline_seconds']:.1f}",
            f"max({f2['crawl_without_embedding_seconds']:.1f} crawl, "
            f"{f2['raw_fastembed_seconds']:.1f} embed)",
            f"{f2['ratio']:.2f}x",
            "<= 1.15x",
            f2["met"],
        ),
        (
            "3. embedding chunks/s in the pipeline",
            f"{f3['in_pipeline_chunks_per_second']:.1f}",
            f"{f3['raw_chunks_per_second']:.1f} raw (batch {f3['raw_best_batch_size']})",
            f"{f3['ratio']:.0%}",
            ">= 90%",
            f3["met"],
        ),
        (
            f"4. peak RSS MB at {f4['pages'][0]} / {f4['pages'][1]} pages",
            f"{f4['peak_rss_mb'][0]:.0f} / {f4['peak_rss_mb'][1]:.0f}",
            f"{figures['1_throughput']['baseline_peak_rss_mb']:.0f} baseline",
            f"{f4['growth']:+.1%}",
            "< 600, < +10%",
            f4["met"],
        ),
        (
            "5. re-crawl: written / embedded / time",
            f"{f5['documents_written']} / {f5['chunks_embedded']} / {f5['seconds']:.1f}s",
            f"{f5['first_crawl_seconds']:.1f}s first crawl",
            f"{f5['ratio']:.0%}",
            "0 / 0 / <= 20%",
            f5["met"],
        ),
    ]
    if "skipped" in f6:
        rows.append(("6. extraction mean F1", "skipped", f6["skipped"], "", "", None))
    else:
        rows.append(
            (
                f"6. extraction mean F1, {f6['pages']} pages",
                f"{f6['ours_mean_f1']:.3f}",
                f"{f6['trafilatura_mean_f1']:.3f} trafilatura",
                f"{f6['ratio']:.3f}x",
                "(no target)",
                None,
            )
        )
    rows.append(
        (
            "7. `twin --help` s (`twin info`)",
            f"{f7['help_seconds']:.2f} ({f7['info_seconds']:.2f})",
            f"{f7['eager_imports_seconds']:.2f} eager imports",
            f"{f7['ratio']:.2f}x",
            "< 1 s",
            f7["met"],
        )
    )
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = []
    for row in rows:
        verdict = {True: "met", False: "MISSED", None: ""}[row[5]]
        cells = [str(c).ljust(w) for c, w in zip(row[:5], widths, strict=True)]
        lines.append("  ".join(cells) + "  " + verdict)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a few minutes")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--out", type=Path, help="where to save the figures (JSON)")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument(
        "--sizes", help="override the sizes: THROUGHPUT,MEM_SMALL,MEM_LARGE,EMBED pages"
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows at once, even in a log file
    name = "quick" if args.quick else "full"
    sizes = SIZES[name]
    if args.sizes:
        a, b, c, d = (int(x) for x in args.sizes.split(","))
        sizes = Sizes(a, (b, c), d, "4,16", 16)
        name = "custom"
    out = args.out or RESULTS_DIR / f"{name}.json"
    work = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    started = time.perf_counter()
    try:
        pages = max(sizes.throughput_pages, *sizes.memory_pages, sizes.embed_pages)
        print(f"generating a site of {pages} posts in {work}")
        generate_site(work / "site", pages)
        with served(work / "site", args.latency) as site:
            bench = Bench(work, site, sizes)
            try:
                figures: dict[str, Any] = {}
                figures["1_throughput"], first = figure_throughput(bench)
                figures["4_memory"] = figure_memory(bench, first)
                figures |= figures_embedding(bench)
            finally:
                bench.close()
        figures["6_extraction"] = figure_extraction(work, args.eval_dir)
        print("  start-up: twin --help and twin info")
        figures["7_startup"] = figure_startup(3 if args.sizes else 7)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = dict(sorted(figures.items()))
    table = report(figures)
    print(table)
    saved = {
        "size": name,
        "sizes": asdict(sizes),
        "latency_seconds": args.latency,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "python": platform.python_version(),
            "load_average": list(psutil.getloadavg()),
        },
        "total_seconds": time.perf_counter() - started,
        "figures": figures,
        "table": table.splitlines(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
