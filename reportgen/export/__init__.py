"""Export a data_store as an AiiDA export archive, and restore a data_store from one.

``export_archive`` writes legacy export version 0.13 (other versions through
``converters``); ``restore_data_store`` rebuilds the data_store byte for byte
(git repositories: same commits).  The graph a job becomes is documented in
``docs/export.md`` and built, without I/O, by ``reportgen.export.graph``.
"""

from __future__ import annotations

from reportgen.export.restore import RestoreSummary, restore_data_store
from reportgen.export.write import DEFAULT_EMAIL, EXPORT_VERSION, ExportOptions, ExportSummary, export_archive

__all__ = [
    "DEFAULT_EMAIL",
    "EXPORT_VERSION",
    "ExportOptions",
    "ExportSummary",
    "RestoreSummary",
    "export_archive",
    "restore_data_store",
]
