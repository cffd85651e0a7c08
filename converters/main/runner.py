"""Convert any supported version to any other: the runner for plans that touch main or go down.

The plan comes from the shared step table (``converters.migrations.plan``),
where ``register()`` adds the main_XXXX revisions and every downgrade.  Plans
that only go forward between legacy versions are handed to
``converters.migrate`` unchanged.  Here the work item changes form as the
plan needs it:

* ``Incoming``: a legacy archive, listed but not parsed;
* ``Staged``: a working SQLite database (main revisions, and 0.13 on the
  way down before it is written or parsed);
* ``Draft``: legacy JSON in memory (legacy steps, up or down).

``0.13 -> main_0000`` streams the legacy archive into SQLite without a
``Draft``; ``main_0000 -> 0.13`` writes ``data.json`` back from SQLite rows.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from converters.containers import Archive, Limits, OutMember, check_output, guess_format, open_archive, write_archive
from converters.errors import BadInputError, UsageError
from converters.jsonio import dump_json, gc_paused, loads
from converters.main import revisions
from converters.main.legacy_to_main import Staged, build_main_metadata, stage_legacy
from converters.main.main_to_legacy import build_legacy_metadata, find_losses, iter_repository, legacy_members, write_data_json
from converters.main.pipeline import write_staged
from converters.main.reader import input_db_errors, stage_main
from converters.main.validate import is_main
from converters.main.records import Problem
from converters.main.schema import MAIN_REVISIONS, REPO_PREFIX
from converters.migrations import STEPS, plan, register_step, run_step
from converters.migrations._base import Draft, RepoView
from converters.versions import LEGACY_VERSIONS, check_sections, read_data, read_metadata, steps_text
from converters.workdirs import work_copies_named, work_folder


@dataclass
class Incoming:
    file: str
    metadata: dict
    archive: Archive


@dataclass(frozen=True)
class ConvertResult:
    source: str
    source_version: str
    output: str
    version: str
    format: str
    steps: tuple[str, ...]
    notes: tuple[str, ...]
    problems: tuple[Problem, ...] = ()

    def describe(self) -> str:
        lines = [f"{self.output}: {self.source_version} -> {self.version} ({self.format}, {steps_text(len(self.steps))})"]
        lines += [f"note: {note}" for note in self.notes]
        lines += [p.describe() for p in self.problems]
        if any(p.severity == "error" for p in self.problems):  # "error:" lines, yet exit 0: say why
            lines.append("note: the errors above were reported and the conversion went on, as without --strict; "
                         "--strict refuses them")
        return "\n".join(lines)


# ---------------------------------------------------------------- border steps
def legacy_to_main_0000(staged: Staged) -> None:
    """0.13 -> main_0000: metadata in the main shape; nulls main_0000 forbids filled (deterministic)."""
    staged.metadata = build_main_metadata(staged.metadata)
    revisions.legacy_0_13_to_main_0000_fill(staged)


def main_0000_to_legacy(staged: Staged) -> None:
    """main_0000 -> 0.13: refuses what 0.13 cannot hold unless loss is allowed; rows stay in SQLite."""
    losses = find_losses(staged)
    if losses:
        sentence = "; ".join(f"{loss.count} {loss.what}" for loss in losses)
        if not staged.allow_loss:
            named = "".join(f" ({'; '.join(loss.details)})" for loss in losses if loss.details)
            raise BadInputError(staged.file, f"downgrade main_0000 -> 0.13 would lose information: {sentence}{named} (use --allow-loss to accept)")
        staged.notes.append(f"main_0000 -> 0.13 lost: {sentence}")
        staged.notes += [f"main_0000 -> 0.13 left out {detail}" for loss in losses for detail in loss.details]
    staged.metadata = build_legacy_metadata(staged.metadata)


MAIN_STEPS = {
    ("0.13", "main_0000"): legacy_to_main_0000,
    ("main_0000", "main_0000a"): revisions.up_0000_to_0000a,
    ("main_0000a", "main_0000b"): revisions.up_0000a_to_0000b,
    ("main_0000b", "main_0001"): revisions.up_0000b_to_0001,
    ("main_0001", "main_0000b"): revisions.down_0001_to_0000b,
    ("main_0000b", "main_0000a"): revisions.down_0000b_to_0000a,
    ("main_0000a", "main_0000"): revisions.down_0000a_to_0000,
    ("main_0000", "0.13"): main_0000_to_legacy,
}


def register() -> None:
    """Add the main revisions and every downgrade to the shared step table (idempotent)."""
    from converters.downgrades import downgrade_steps

    for (source, target), step in {**MAIN_STEPS, **downgrade_steps()}.items():
        if STEPS.get((source, target)) is not step:
            register_step(source, target, step)


def _needs_staged(source: str, target: str) -> bool:
    return source in MAIN_REVISIONS or target in MAIN_REVISIONS


# ---------------------------------------------------------------- forms
def _open(src: Path, workdir: Path, strict: bool, limits: Limits | None):
    """The input as a work item, and the listing's warnings: each member it ignores (macOS junk, a
    README.txt beside data.json) is one sentence, which the result repeats as a note, since the
    output never holds it (docs/archives.md: ignored with a warning, never copied)."""
    archive = open_archive(src, limits)  # listed and checked once: the listing of a large zip is not free
    warnings = tuple(archive.listing.warnings)
    return _as_item(src, workdir, strict, archive), warnings


def _as_item(src: Path, workdir: Path, strict: bool, archive: Archive):
    if is_main(archive) and not archive.listing.ignored:
        return stage_main(src, workdir, strict, archive)
    metadata = read_metadata(archive)
    if metadata["export_version"] in MAIN_REVISIONS:
        # is_main refuses every such case with its own sentence; kept as the last guard
        raise BadInputError(src, f"metadata.json says {metadata['export_version']}, but this is not a main_XXXX zip archive", "metadata.json")
    return Incoming(str(src), metadata, archive)


def _to_staged(item, workdir: Path, strict: bool, limits: Limits | None) -> Staged:
    if isinstance(item, Staged):
        return item
    if isinstance(item, Draft):
        item = _spill_draft(item, workdir, limits)  # a work copy: errors still name the input (item.file)
    return stage_legacy(item.archive, item.metadata, workdir, strict, file=item.file)


def _spill_draft(draft: Draft, workdir: Path, limits: Limits | None) -> Incoming:
    """A Draft at 0.13 written to a work folder archive, so it can stream into SQLite (read
    back under the input's budgets, but for the ratio: its repository bytes were read from the
    input under them, and their deflate here is ours; a member the input stored uncompressed, or
    a folder input's file of zeros, is no bomb)."""
    path = workdir / "legacy-0.13.zip"
    write_archive(path, "zip", _draft_members(draft))
    archive = open_archive(path, replace(limits or Limits(), max_ratio=math.inf))
    return Incoming(draft.file, read_metadata(archive), archive)


def _to_draft(item, workdir: Path) -> Draft:
    if isinstance(item, Draft):
        return item
    if isinstance(item, Incoming):
        archive = item.archive
        with gc_paused():
            draft = Draft(item.file, item.metadata, read_data(archive), RepoView(archive.read_many, archive.files, item.file))
        check_sections(item.file, draft.data)
        draft.repo_members = lambda: _archive_members(archive, draft.repo.deleted)  # type: ignore[attr-defined]
        return draft
    buffer = io.BytesIO()  # the whole document is parsed next anyway: no work file
    exact = write_data_json(item.db, buffer, item.file)
    with gc_paused():
        data = loads(buffer.getbuffer(), exact)
    del buffer
    draft = Draft(item.file, item.metadata, data, RepoView(lambda names: {}, (), item.file), notes=list(item.notes))
    draft.data_member = "db.sqlite3"  # type: ignore[attr-defined]  # what an error about its data names: a main archive has no data.json
    zf = item.source  # type: ignore[attr-defined]
    skip = item.unholdable  # files whose names 0.13 cannot hold, left out under --allow-loss
    draft.repo_members = lambda: iter_repository(item.db, lambda k: zf.chunks(REPO_PREFIX + k), lambda k: zf.size(REPO_PREFIX + k), item.file, skip)  # type: ignore[attr-defined]
    return draft


def _archive_members(archive: Archive, deleted: set[str]) -> Iterator[OutMember]:
    for member, chunks in archive.iter_members():
        if member.name in deleted:
            continue
        yield OutMember(member.name, is_dir=True) if member.is_dir else OutMember(member.name, size=member.size, chunks=chunks)


def _draft_members(draft: Draft) -> Iterator[OutMember]:
    with gc_paused():
        data, meta = dump_json(draft.data), dump_json(draft.metadata)
    draft.data = {}
    yield OutMember("data.json", data=data, size=len(data))
    yield OutMember("metadata.json", data=meta, size=len(meta))
    yield from draft.repo_members()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the runner
def convert(
    src: Path | str,
    dst: Path | str,
    to_version: str = "main_0001",
    fmt: str | None = None,
    force: bool = False,
    strict: bool = False,
    allow_loss: bool = False,
    limits: Limits | None = None,
) -> ConvertResult:
    """Write ``src`` at ``to_version`` into ``dst``; any direction the step table allows.

    ``limits``: the reading budgets (``containers.Limits``; the defaults when None)."""
    register()
    src, dst = Path(src), Path(dst)
    _check_main_is_zip(dst, to_version, fmt)
    fmt = fmt or guess_format(dst)
    check_output(dst, [src], force)
    with work_copies_named(dst, src), work_folder(dst) as workdir:
        item, ignored = _open(src, workdir, strict, limits)
        source_version = item.metadata["export_version"]
        steps = plan(source_version, to_version)
        if isinstance(item, Incoming) and _forward_legacy(steps, to_version):
            from converters.migrate import migrate_opened

            with item.archive:  # its result names the ignored members itself
                return with_container_note(migrate_opened(item.archive, item.metadata, steps, dst, fmt, replace=force))  # type: ignore[return-value]
        if isinstance(item, Incoming):
            item, steps_done = _stream_legacy_steps(item, steps, workdir, strict)
            reading = nullcontext()
        else:
            steps_done = 0
            reading = input_db_errors(src)  # the steps and the writer read the input's own database
        with reading:
            for source, target in steps[steps_done:]:
                item = _staged_or_draft(item, source, target, workdir, strict, limits)
                item.allow_loss = allow_loss  # type: ignore[union-attr]
                run_step(item, source, target, _tool())
            _write(item, dst, fmt, workdir, force)
    notes = ignored + tuple(getattr(item, "notes", ()))
    problems = item.log.summary() if isinstance(item, Staged) else ()
    return with_container_note(
        ConvertResult(str(src), source_version, str(dst), to_version, fmt, tuple(f"{a} -> {b}" for a, b in steps), notes, problems)
    )


ZST_NOTE = ("no AiiDA (1.x or 2.x) reads tar.zst, which is for storage and for reportgen; "
            "for aiida-core, migrate it to a .zip or .tar.gz first")  # fmt: skip


def with_container_note(result):
    """``result`` (a ``ConvertResult`` or a legacy ``MigrationResult``) with a note when the output
    is a tar.zst: written for a colleague, it would reach an AiiDA that cannot open it."""
    from dataclasses import replace

    return replace(result, notes=result.notes + (ZST_NOTE,)) if result.format == "tar.zst" else result


def _stream_legacy_steps(item: Incoming, steps, workdir: Path, strict: bool):
    """On the way to main, the legacy steps (from 0.4) run while the rows stream into SQLite:
    no legacy document is ever held whole (``streamsteps.stage_migrating``)."""
    from converters.legacy_stream import streams
    from converters.main.streamsteps import stage_migrating

    if ("0.13", "main_0000") not in steps:
        return item, 0
    legacy = steps[: steps.index(("0.13", "main_0000"))]
    if not streams(item.metadata["export_version"], legacy):
        return item, 0
    return stage_migrating(item.archive, item.metadata, legacy, workdir, strict, _tool()), len(legacy)


def _check_main_is_zip(dst: Path, to_version: str, fmt: str | None) -> None:
    """A main_XXXX archive is a zip: name what asked for another container, the option the user
    typed or else the output's name the container was guessed from."""
    if to_version not in MAIN_REVISIONS:
        return
    if fmt is not None and fmt != "zip":
        raise UsageError("--format", f"{to_version} archives are zip only; leave out --format {fmt} (or give zip)")
    if fmt is None and guess_format(dst) != "zip":
        raise UsageError(dst, f"{to_version} archives are zip only; name it .aiida or .zip")


def _forward_legacy(steps: list[tuple[str, str]], target: str) -> bool:
    from converters.versions import version_index

    return target in LEGACY_VERSIONS and all(version_index(b) > version_index(a) for a, b in steps)


def _staged_or_draft(item, source: str, target: str, workdir: Path, strict: bool, limits: Limits | None):
    if _needs_staged(source, target):
        return _to_staged(item, workdir, strict, limits)
    return _to_draft(item, workdir)


def _write(item, dst: Path, fmt: str, workdir: Path, replace: bool) -> None:
    version = item.metadata["export_version"]
    if isinstance(item, Staged) and version in MAIN_REVISIONS:
        write_staged(item, dst, workdir, replace)
    elif isinstance(item, Staged):
        write_archive(dst, fmt, legacy_members(item, workdir), replace)
    else:
        write_archive(dst, fmt, _draft_members(_to_draft(item, workdir)), replace)


def _tool() -> str:
    from converters.migrate import tool_version

    return tool_version()


__all__ = ["convert", "register", "ConvertResult"]
