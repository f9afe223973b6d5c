"""Where everything lives (`twin info`), found without starting any server."""

from __future__ import annotations

from typing import Any

from twin_scraper import __version__
from twin_scraper.services.workspace import Workspace


def info(ws: Workspace) -> dict[str, Any]:
    from twin_scraper.stores.embedded_mongo import server_status
    from twin_scraper.stores.embedder import model_path
    from twin_scraper.stores.mongo import redact_uri

    config = ws.config
    settings = ws.settings()
    model = model_path(config.model_dir)
    facts: dict[str, Any] = {
        "version": __version__,
        "data_dir": str(ws.data_dir),
        "data_dir_exists": ws.data_dir.is_dir(),
        "mongodb": redact_uri(config.mongo_uri) if config.mongo_uri else "embedded (nx-27017)",
        "mongodb_database": config.mongo_database,
        "qdrant": redact_uri(config.qdrant_url) if config.qdrant_url else str(config.qdrant_path),
        "qdrant_collection": config.qdrant_collection,
        "model": str(model),
        "model_ready": (model / "manifest.json").is_file(),
        "scrapyd": settings.get("SCRAPYD_URL"),
    }
    if not config.mongo_uri:
        status = server_status(ws.data_dir)
        facts["mongodb_running"] = f"{status['uri']} (pid {status['pid']})" if status else None
        if status:
            with ws.mongo() as mongo:
                facts["documents"] = mongo.count_documents()
    return facts
