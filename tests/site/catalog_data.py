"""A project's catalog rows, as the site's ``catalog-data.js`` holds them."""

from __future__ import annotations

import json
from pathlib import Path


def catalog_rows(site: Path, project: str) -> list[dict]:
    text = (site / project / "catalog-data.js").read_text(encoding="utf-8")
    data = json.loads(text.split(" = ", 1)[1].rstrip(";\n"))
    return [dict(zip(data["columns"], row)) for row in data["rows"]]
