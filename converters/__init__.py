"""converters: read, validate, migrate and write AiiDA export archives.

The lower floor of the project: it never imports ``reportgen``.  Public API:

- ``open_archive(path, limits=None)``: detect, list and check a container;
- ``read_version(path)``: the export version, e.g. ``"0.4"``;
- ``validate(path)``: every problem, each with a JSON path;
- ``migrate(src, dst, to_version="0.13", fmt=None, force=False)``;
- ``inspect(path)``: a summary (``render_summary`` prints it).
"""

from converters.containers import Archive, Limits, open_archive
from converters.inspect import ArchiveSummary, inspect, render_summary
from converters.migrate import MigrationResult, migrate
from converters.validate import Problem, is_valid, validate
from converters.versions import KNOWN_VERSIONS, LATEST_LEGACY, LEGACY_VERSIONS, read_version
from converters.main.runner import register as _register_main_steps

# The main_XXXX revisions and every downgrade join the step table on import, so
# read_version, migrate and the planner know them without going through convert().
_register_main_steps()

__all__ = [
    "Archive", "ArchiveSummary", "KNOWN_VERSIONS", "LATEST_LEGACY", "LEGACY_VERSIONS", "Limits",
    "MigrationResult", "Problem", "inspect", "is_valid", "migrate", "open_archive", "read_version",
    "render_summary", "validate",
]  # fmt: skip
