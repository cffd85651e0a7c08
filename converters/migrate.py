"""Migrate an archive to another export version, possibly changing its container.

From 0.4 on, ``data.json`` streams in batches of rows through the steps
(``converters.legacy_stream``); before 0.4 it is parsed once, every step
edits the same dicts, and the result is dumped once.  Either way the
repository files stream from the input container straight into the output
container without touching the disk in between.  Plans that touch main or go
down are handed to ``converters.main.runner``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata as distribution
from pathlib import Path

from converters.containers import Archive, Limits, OutMember, check_output, guess_format, open_archive, write_archive
from converters.jsonio import dump_json, dumps, gc_paused
from converters.legacy_stream import apply_to_metadata, stream_data_json, streams
from converters.migrations import plan, run_step
from converters.migrations._base import Draft, RepoView
from converters.validate import files_used_as_folders
from converters.versions import LATEST_LEGACY, LEGACY_VERSIONS, check_sections, read_data, read_metadata, steps_text, version_index
from converters.workdirs import work_folder


@dataclass(frozen=True)
class MigrationResult:
    source: str
    source_version: str
    source_container: str
    output: str
    version: str
    format: str
    steps: tuple[str, ...]  # "0.3 -> 0.4", ...
    notes: tuple[str, ...]  # warnings about the input and what the steps did

    def describe(self) -> str:
        done = f"{self.source_version} -> {self.version}" if self.steps else f"kept version {self.version}"
        lines = [f"{self.output}: {done} ({self.source_container} -> {self.format}, {steps_text(len(self.steps))})"]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def tool_version() -> str:
    try:
        return distribution.version("reportgen")
    except distribution.PackageNotFoundError:
        return "unknown"


def migrate(
    src: Path | str,
    dst: Path | str,
    to_version: str = LATEST_LEGACY,
    fmt: str | None = None,
    force: bool = False,
    limits: Limits | None = None,
    in_memory: bool = False,
) -> MigrationResult:
    """Write ``src`` migrated to ``to_version`` into ``dst`` (zip, tar.gz or tar.zst).

    ``in_memory`` forces the whole-document chain even from 0.4 on (the tests'
    reference for the streamed one; it needs about six times ``data.json`` in memory).
    """
    src, dst = Path(src), Path(dst)
    fmt = fmt or guess_format(dst)
    check_output(dst, [src], force)
    archive = open_archive(src, limits)
    metadata = read_metadata(archive)
    source_version = metadata["export_version"]
    steps = plan(source_version, to_version)
    if not _forward_legacy(steps):  # main_XXXX or a downgrade: the runner knows every form
        from converters.main.runner import convert

        archive.close()
        return convert(src, dst, to_version=to_version, fmt=fmt, force=force, limits=limits)  # type: ignore[return-value]
    with archive:
        return migrate_opened(archive, metadata, steps, dst, fmt, in_memory, replace=force)


def migrate_opened(
    archive: Archive, metadata: dict, steps: list[tuple[str, str]], dst: Path, fmt: str, in_memory: bool = False,
    replace: bool = False,
) -> MigrationResult:
    """The forward legacy ``steps`` over an archive already opened (and listed: listing a large
    zip or a tar is a pass of its own, so the runner hands over the one it made).  ``replace``:
    an existing ``dst`` may be replaced (``--force``)."""
    source_version = metadata["export_version"]
    if streams(source_version, steps) and not in_memory:
        notes = _migrate_streaming(archive, metadata, steps, dst, fmt, replace)
    else:
        notes = _migrate_in_memory(archive, metadata, steps, dst, fmt, replace)
    return MigrationResult(
        str(archive.path), source_version, archive.container, str(dst), steps[-1][1] if steps else source_version,
        fmt,
        tuple(f"{a} -> {b}" for a, b in steps), tuple(archive.listing.warnings) + tuple(notes) + _clash_notes(archive),
    )  # fmt: skip


def _clash_notes(archive: Archive) -> tuple[str, ...]:
    """A repository file that is also the folder of other files is copied as it is (a legacy
    step keeps the input's repository byte for byte, as aiida-core does), so the output is
    as invalid as the input; the user is told here rather than only by ``archive validate``."""
    clashes = list(files_used_as_folders(archive.listing.members))
    if not clashes:
        return ()
    file, inside = clashes[0]
    more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
    return (f"{file}: a file, and also the folder of {inside!r}{more}; copied as it is, so the output is as invalid "
            "as the input (`archive validate` lists each; `--to main_0001` keeps the folder and reports the file)",)


def _migrate_streaming(archive: Archive, metadata: dict, steps: list[tuple[str, str]], dst: Path, fmt: str,
                       replace: bool) -> list[str]:
    """From 0.4 on: ``data.json`` migrated batch by batch into work files next to the output."""
    with work_folder(dst) as work:
        body = stream_data_json(archive, steps, work)
        apply_to_metadata(metadata, steps, tool_version())
        head = [OutMember("data.json", size=body.size, chunks=body.chunks()), OutMember("metadata.json", data=dump_json(metadata))]
        write_archive(dst, fmt, _members(archive, head, set()), replace)
    return []


def _migrate_in_memory(archive: Archive, metadata: dict, steps: list[tuple[str, str]], dst: Path, fmt: str,
                       replace: bool) -> list[str]:
    """Before 0.4 (steps that need the whole document): one parse, in-place steps, one dump."""
    draft = Draft(str(archive.path), metadata, read_data(archive), _repo_view(archive))
    check_sections(archive.path, draft.data)
    with gc_paused():
        _run_steps(draft, steps)
        # data.json keeps the input's order (as the streamed path must); metadata.json is sorted
        json_members = [OutMember("data.json", data=dumps(draft.data)), OutMember("metadata.json", data=dump_json(draft.metadata))]
    draft.data = {}  # the tree is no longer needed while the repository streams
    write_archive(dst, fmt, _members(archive, json_members, draft.repo.deleted), replace)
    return draft.notes


def _forward_legacy(steps: list[tuple[str, str]]) -> bool:
    return all(a in LEGACY_VERSIONS and b in LEGACY_VERSIONS and version_index(b) > version_index(a) for a, b in steps)


def _repo_view(archive: Archive) -> RepoView:
    return RepoView(archive.read_many, archive.files, str(archive.path))


def _run_steps(draft: Draft, steps: list[tuple[str, str]]) -> None:
    """Steps trust the structure of their version; a wrong shape is bad input, not a bug."""
    version = tool_version()
    for source, target in steps:
        run_step(draft, source, target, version)  # a wrong shape is a shape_error there


def _members(archive: Archive, head: list[OutMember], deleted: set[str]) -> Iterator[OutMember]:
    yield from head
    for member, chunks in archive.iter_members():
        if member.name in deleted:
            continue
        if member.is_dir:
            yield OutMember(member.name, is_dir=True)
        else:
            yield OutMember(member.name, size=member.size, chunks=chunks)
