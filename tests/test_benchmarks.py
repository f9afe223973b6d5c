"""The benchmark harness at a tiny size, so it cannot rot. Its figures are never asserted
here (speed targets live in `benchmarks/`), only that every one is measured and sane."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.eval_extraction import DEFAULT_EVAL_DIR
from tests.conftest import TESTS_DIR


def test_harness_measures_every_figure(tmp_path: Path, model_dir: Path) -> None:
    out = tmp_path / "figures.json"
    tiny = ["--sizes", "6,6,8,3", "--latency", "0", "--out", str(out)]
    subprocess.run(
        [sys.executable, "-m", "benchmarks", *tiny],
        cwd=TESTS_DIR.parent,
        check=True,
        capture_output=True,
        timeout=600,
    )
    figures = json.loads(out.read_text())["figures"]
    assert figures["1_throughput"]["ours_documents_written"] == 6
    assert figures["1_throughput"]["ratio"] > 0
    assert figures["2_full_pipeline"]["chunks"] > 3  # every post gives several chunks
    assert (
        figures["3_embedding_throughput"]["raw_chunks_checked"]
        == (figures["2_full_pipeline"]["chunks"])
    )
    assert figures["4_memory"]["documents_written"] == [6, 8]
    assert 0 < figures["4_memory"]["peak_rss_mb"][0] < 2000
    recrawl = figures["5_recrawl"]
    assert recrawl["documents_written"] == 0 and recrawl["chunks_embedded"] == 0
    assert recrawl["without_listing_dates"]["pages_fetched"] == 3
    assert recrawl["without_listing_dates"]["documents_written"] == 0
    startup = figures["7_startup"]
    assert startup["help_seconds"] > 0 and startup["eager_imports_seconds"] > 0
    if (DEFAULT_EVAL_DIR / "score.py").is_file():
        assert figures["6_extraction"]["ours_mean_f1"] > 0.5
