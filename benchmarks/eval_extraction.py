"""Compare `extract_article` with plain trafilatura on the article evaluation set.

    python -m benchmarks.eval_extraction [--eval-dir ../shared/eval] [--json OUT]

Bodies are scored with the eval set's own `score.py` (imported from the eval dir, which is
read-only and never needed by the package itself). Our Markdown is scored as
`markdown_to_text(markdown)`: the truth is plain text, and link URLs / image paths in the
Markdown would otherwise count as extra words. The raw-Markdown figure is printed too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import trafilatura

from twin_scraper.extract.article import extract_article
from twin_scraper.extract.markdown import markdown_to_text

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
ROWS = [
    ("mean precision", "mean_precision"),
    ("mean recall", "mean_recall"),
    ("mean F1", "mean_f1"),
    ("median F1", "median_f1"),
    ("benchmark-style F1", "bench_f1"),
    ("title exact", "title_exact"),
    ("author match", "author_match"),
    ("date match", "date_match"),
]


def load_scorer(eval_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_score", eval_dir / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: no score.py in {eval_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _iso(value: object) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def predict(
    truth: dict[str, dict], pages: Path
) -> tuple[dict[str, dict], dict[str, dict], dict[str, dict], dict[str, float]]:
    """Predictions per system (ours as text, ours as raw Markdown, trafilatura) and the
    seconds each system spent."""
    ours, ours_md, theirs = {}, {}, {}
    seconds = {"ours": 0.0, "trafilatura": 0.0}
    for pid, row in truth.items():
        html = (pages / f"{pid}.html").read_text(encoding="utf-8")
        url = row.get("url") or f"https://example.org/{pid}"
        start = time.perf_counter()
        found = extract_article(html, url)
        seconds["ours"] += time.perf_counter() - start
        fields = {"title": found.title, "author": found.author, "date": _iso(found.published_at)}
        ours[pid] = {"id": pid, "body": markdown_to_text(found.markdown), **fields}
        ours_md[pid] = {"id": pid, "body": found.markdown, **fields}
        start = time.perf_counter()
        text = trafilatura.extract(html, include_tables=True, include_comments=False)
        meta = trafilatura.extract_metadata(html)
        seconds["trafilatura"] += time.perf_counter() - start
        theirs[pid] = {
            "id": pid,
            "body": text or "",
            "title": meta.title if meta else None,
            "author": meta.author if meta else None,
            "date": meta.date if meta else None,
        }
    return ours, ours_md, theirs, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--json", type=Path, help="save the figures to this file")
    args = parser.parse_args(argv)
    scorer = load_scorer(args.eval_dir)
    pages = args.eval_dir / "articles"
    truth = scorer.load_jsonl(str(pages / "truth.jsonl"))
    ours, ours_md, theirs, seconds = predict(truth, pages)
    results = {
        "ours": scorer.score(truth, ours)["summary"],
        "ours_raw_markdown": scorer.score(truth, ours_md)["summary"],
        "trafilatura": scorer.score(truth, theirs)["summary"],
    }
    print(f"{len(truth)} pages from {pages}")
    print(f"{'':20} {'ours':>8} {'trafil.':>8} {'ratio':>7} {'ours(md)':>9}")
    for label, key in ROWS:
        a, b = results["ours"][key], results["trafilatura"][key]
        ratio = f"{a / b:7.3f}" if a is not None and b else "    n/a"
        raw = results["ours_raw_markdown"][key]
        print(f"{label:20} {_fmt(a):>8} {_fmt(b):>8} {ratio} {_fmt(raw):>9}")
    print(f"{'seconds (total)':20} {seconds['ours']:8.2f} {seconds['trafilatura']:8.2f}")
    if args.json:
        results["seconds"] = seconds
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
