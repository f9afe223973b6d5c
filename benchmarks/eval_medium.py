"""Score the Medium story extractor on the Medium pages of the evaluation set.

    python -m benchmarks.eval_medium [--eval-dir ../shared/eval]

Only the pages whose truth URL is a Medium story (medium-1/2/3 today). Bodies are scored
as `markdown_to_text(markdown)` with the eval set's own `score.py`, next to the generic
article extractor on the same pages.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.eval_extraction import DEFAULT_EVAL_DIR, load_scorer
from twin_scraper.extract.article import extract_article
from twin_scraper.extract.markdown import markdown_to_text
from twin_scraper.extract.medium import extract_story, story_id

SUMMARY = ("mean_precision", "mean_recall", "mean_f1", "title_exact", "author_match", "date_match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()
    scorer = load_scorer(args.eval_dir)
    pages = args.eval_dir / "articles"
    truth = {
        pid: row
        for pid, row in scorer.load_jsonl(str(pages / "truth.jsonl")).items()
        if "medium.com" in (row.get("url") or "") and story_id(row["url"])
    }
    systems: dict[str, dict[str, dict]] = {"medium": {}, "article": {}}
    for pid, row in truth.items():
        html = (pages / f"{pid}.html").read_text(encoding="utf-8")
        story = extract_story(html, row["url"])
        generic = extract_article(html, row["url"])
        for name, found in (("medium", story), ("article", generic)):
            systems[name][pid] = {
                "id": pid,
                "body": markdown_to_text(found.markdown),
                "title": found.title,
                "author": found.author,
                "date": found.published_at.isoformat() if found.published_at else None,
            }
    for name, predictions in systems.items():
        result = scorer.score(truth, predictions)
        print(f"{name} extractor on {', '.join(truth)}")
        for page in result["pages"]:
            p, r, f1 = page["precision"], page["recall"], page["f1"]
            print(f"  {page['id']}: P {p:.3f} R {r:.3f} F1 {f1:.3f}")
        summary = result["summary"]
        shown = {k: summary[k] for k in SUMMARY}
        print("  " + json.dumps({k: round(v, 3) if v is not None else v for k, v in shown.items()}))


if __name__ == "__main__":
    main()
