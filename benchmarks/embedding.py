"""Raw fastembed over the chunks a crawl embedded, in its own process: the reference for
the pipeline's embedding throughput.

    python -m benchmarks.embedding --data-dir DIR --database NAME --out result.json
        [--batch-sizes 16,64,256] [--sample 256]

Reads the crawl's documents from MongoDB and makes the very texts the pipeline embedded
(`Indexer.inputs`), then times fastembed's `TextEmbedding.embed` alone on them: a sample
at each batch size, then every chunk at the best one. Model loading is not timed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fastembed import TextEmbedding

from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.stores.embedder import MODEL_NAME, model_path


def chunks_per_second(model: TextEmbedding, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    vectors = list(model.embed(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    assert len(vectors) == len(texts)
    return len(texts) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database", default="bench")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch-sizes", default="16,32,64,128,256")
    parser.add_argument("--sample", type=int, default=256, help="chunks per batch-size trial")
    args = parser.parse_args(argv)
    config = StoreConfig.from_settings(
        project_settings(
            {
                "TWIN_DATA_DIR": str(args.data_dir),
                "MONGO_DATABASE": args.database,
                "QDRANT_URL": "",
                "QDRANT_PATH": str(args.data_dir / f"qdrant-{args.database}"),
            }
        )
    )
    mongo = config.open_mongo()
    indexer = config.open_indexer()  # the crawl's own chunking, and the model registered
    texts, _, _ = indexer.inputs(list(mongo.iter_documents()))
    indexer.qdrant.close()
    mongo.close()
    model = TextEmbedding(
        model_name=MODEL_NAME,
        specific_model_path=str(model_path(config.model_dir)),
        threads=config.embed_threads or None,
    )
    list(model.embed(texts[:16]))  # warm-up: first-call allocations are not throughput
    sample = texts[: args.sample]
    sweep = {
        int(size): chunks_per_second(model, sample, int(size))
        for size in args.batch_sizes.split(",")
    }
    best = max(sweep, key=sweep.__getitem__)
    start = time.perf_counter()
    list(model.embed(texts, batch_size=best))
    seconds = time.perf_counter() - start
    result = {
        "chunks": len(texts),
        "sweep_sample": len(sample),
        "sweep_chunks_per_second": sweep,
        "best_batch_size": best,
        "seconds": seconds,
        "chunks_per_second": len(texts) / seconds,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
