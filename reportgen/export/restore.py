"""Export archive -> the data_store it was made from (files byte-identical, same commits).

The archive is read through ``converters.containers`` (safe names, budgets,
streamed).  Only the three kinds of FolderData the export writes for this
purpose are used: a job's "raw files", a project's "git history" (bundles)
and the store's "other files"; each carries, in its ``entropy_files`` or
``entropy_repositories`` attribute, the true path, size, SHA-256 and mtime of
every file.  Every file is checked against them while it is written.
Everything is built in ``.<name>.staging-<pid>`` next to the output and
renamed into place only when complete.

Budgets (security reference section 1): the archive is read with the
converters' limits except the per-member compression-ratio check, which
would refuse real data (an HDF5 file of zeros deflates 1000:1).  Restore
bounds what it writes by the archive's own declared sizes instead: the sizes
recorded for the files (and the container's sizes of the bundles) must fit in
the free space of the output's file system before anything is written
(``check_free_space``), and each member is cut off at the first byte beyond
its recorded size (``write_member``), so a member that inflates past what the
archive declares (a bomb) stops there.  The converters' absolute budget per
pass (``Limits.max_total_bytes``) still bounds any decompression.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from converters import containers
from converters.jsonio import read_json
from reportgen.errors import BadInputError, OutputError, WriteError
from reportgen.export import graph as g
from converters.workdirs import work_folder
from reportgen.outdir import check_output_path, remove_stale_staging, replace_dir, staging_tree
from reportgen.readers.git import read_refs, write_repo_from_bundle

RESTORABLE_VERSION = "0.13"
GIT_SPACE_FACTOR = 2  # a bundle becomes a pack plus its index; its own copy waits in the bundles folder


def build_restore_limits() -> containers.Limits:
    """The converters' limits without the ratio check: restore bounds its writes by declared sizes."""
    return replace(containers.Limits(), max_ratio=math.inf)


@dataclass(frozen=True)
class Target:
    """Where one archive member goes, and what it must be."""

    kind: str  # "file" or "bundle"
    path: str  # relative to the data_store root
    sha256: str
    size: int | None = None
    mtime_ns: int | None = None
    executable: bool = False
    head: str = ""
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RestorePlan:
    targets: dict[str, Target]  # member name -> target
    directories: tuple[str, ...]


@dataclass(frozen=True)
class RestoreSummary:
    path: str
    files: int
    repositories: int
    bytes: int
    lossless: bool
    notes: tuple[str, ...] = field(default=())

    def render(self) -> str:
        text = f"restored {self.path}: {self.files} files ({self.bytes} bytes), {self.repositories} git repositories"
        if not self.lossless:
            text += " (a selective export: only the exported projects and jobs)"
        return text


# ---------------------------------------------------------------- planning (pure)
def build_plan(file: Path, data: dict[str, Any]) -> RestorePlan:
    """Member -> target for every file the role nodes carry; paths are checked here."""
    targets: dict[str, Target] = {}
    directories: list[str] = []
    attributes = data.get("node_attributes", {})
    for pk, node in data.get("export_data", {}).get("Node", {}).items():
        attrs = attributes.get(pk) or {}
        role = attrs.get("entropy_role") if isinstance(attrs, dict) else None
        if role not in (g.ROLE_RAW, g.ROLE_GIT, g.ROLE_OTHER):
            continue
        base = f"nodes/{node['uuid'][:2]}/{node['uuid'][2:4]}/{node['uuid'][4:]}/path/"
        for item in attrs.get("entropy_files", []):
            targets[base + item["member"]] = Target(
                "file", check_rel_path(file, read_json_path(item)), item["sha256"], check_size(file, item["size"]),
                item.get("mtime_ns"), bool(item.get("executable")),
            )
        for item in attrs.get("entropy_repositories", []):
            refs = tuple((ref, sha) for ref, sha in item.get("refs", []))
            targets[base + item["member"]] = Target(
                "bundle", check_rel_path(file, read_json_path(item)), item["sha256"], head=item.get("head", ""),
                refs=refs,
            )
        directories += [check_rel_path(file, read_json_path(d)) for d in attrs.get("entropy_directories", [])]
    if not targets:
        raise BadInputError(file, "no data_store files in this archive (was it written by reportgen export?)")
    return RestorePlan(targets, tuple(sorted(set(directories))))


def read_json_path(item: dict[str, Any]) -> str:
    if "path_hex" in item:
        return bytes.fromhex(item["path_hex"]).decode("utf-8", "surrogateescape")
    return str(item["path"])


def check_size(file: Path, size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadInputError(file, f"bad size {size!r} in the archive's file list", "data.json")
    return size


def bundle_name(rel: str) -> str:
    """The bundle's file name while restoring (the path may hold undecodable bytes, kept as surrogates)."""
    return hashlib.sha256(rel.encode("utf-8", "surrogateescape")).hexdigest()


def check_rel_path(file: Path, rel: str) -> str:
    """A relative path that stays inside the output: no '..', no absolute, no empty segments."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\0" in rel or any(p in ("", ".", "..") for p in parts):
        raise BadInputError(file, "unsafe path in the archive's file list", rel)
    return rel


# ---------------------------------------------------------------- writing
def write_member(staging: Path, target: Target, chunks: Iterator[bytes], file: Path, member: str,
                 limit: int) -> int:
    """Stream one member to its place, checking size and SHA-256; returns the byte count.

    Writing stops at the first byte beyond ``limit`` (the recorded size): what
    the archive declared is all that is ever written.
    """
    dest = staging / target.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(dest, "xb") as fh:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise BadInputError(file, f"member larger than the {limit} bytes recorded for it", member)
            digest.update(chunk)
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    if digest.hexdigest() != target.sha256 or (target.size is not None and size != target.size):
        raise BadInputError(file, f"checksum mismatch for {target.path!r}", member)
    return size


def finish_file(staging: Path, target: Target) -> None:
    path = staging / target.path
    if target.executable:  # x wherever the umask left r (0o644 -> 0o755, 0o600 -> 0o700)
        mode = os.stat(path).st_mode
        os.chmod(path, stat.S_IMODE(mode) | (mode & 0o444) >> 2)
    if target.mtime_ns is not None:
        os.utime(path, ns=(target.mtime_ns, target.mtime_ns))


def write_repository(staging: Path, bundles: Path, target: Target, file: Path, member: str, output: Path) -> None:
    """A bare repository from its bundle, and a check that every ref points where it did.

    git's failures become one line naming the archive and the bundle's member
    (never the temporary folders, never git's several lines).
    """
    git_dir = staging / target.path
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_repo_from_bundle(git_dir, bundles / bundle_name(target.path), target.head)
    except BadInputError as exc:
        raise BadInputError(file, f"git cannot restore {target.path!r} from its bundle ({exc.reason})", member) from None
    except WriteError as exc:
        raise WriteError(output, f"cannot create repository {target.path!r}: {exc.reason}") from None
    if target.refs and read_refs(git_dir) != dict(target.refs):
        raise BadInputError(file, f"restored repository {target.path!r} does not hold the recorded refs", member)


def check_free_space(arc: containers.Archive, plan: RestorePlan, archive: Path, output: Path) -> None:
    """Refuse up front when what the archive declares would not fit beside the output."""
    need = sum(t.size or 0 for t in plan.targets.values() if t.kind == "file")
    need += GIT_SPACE_FACTOR * sum(member_size(arc, m) for m, t in plan.targets.items() if t.kind == "bundle")
    free = read_free_bytes(output.parent)
    if need > free:
        raise WriteError(output, f"not enough free space: {archive.name!r} declares {need} bytes to restore, "
                                 f"{free} are free")


def member_size(arc: containers.Archive, name: str) -> int:
    member = arc.files.get(name)
    return member.size if member is not None else 0


def read_free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def check_output_dir(output: Path, archive: Path, force: bool) -> None:
    check_output_path(output)  # '.', '..': the folder the user's shell is in
    if output.is_symlink():
        raise OutputError(output, "output is a symlink; refusing to write through it")
    if output.exists() and not force:
        raise OutputError(output, "output exists (use --force to replace it)")
    if output.exists() and not output.is_dir():
        raise OutputError(output, "output exists and is not a directory")
    out_abs, arc_abs = Path(os.path.abspath(output)), Path(os.path.abspath(archive))
    if out_abs == arc_abs or out_abs in arc_abs.parents:
        raise OutputError(output, "output overlaps input")
    if not out_abs.parent.is_dir():
        raise OutputError(output, "output directory does not exist")


def restore_data_store(archive: Path | str, output: Path | str, force: bool = False) -> RestoreSummary:
    """Rebuild the data_store carried by ``archive`` into ``output``.

    An archive at another export version (migrated or downgraded since it was
    written, or exported with ``--export-version``) is first converted back to
    0.13 by converters, into a temporary file next to the output.
    """
    archive, output = Path(archive), Path(output)
    limits = build_restore_limits()
    arc = containers.open_archive(archive, limits)
    check_output_dir(output, archive, force)
    remove_stale_staging(output)  # what a run killed with SIGKILL left beside this output
    metadata = read_json(archive, "metadata.json", arc.read_bytes("metadata.json"))
    if metadata.get("export_version") == RESTORABLE_VERSION:
        return restore_from(arc, metadata, archive, output, force)
    from converters.migrate import migrate

    arc.close()
    with work_folder(output) as tmp:
        converted = tmp / f"as-{RESTORABLE_VERSION}.zip"
        migrate(archive, converted, RESTORABLE_VERSION, fmt="zip", limits=limits)
        arc = containers.open_archive(converted, limits)
        metadata = read_json(archive, "metadata.json", arc.read_bytes("metadata.json"))
        return restore_from(arc, metadata, archive, output, force)


def restore_from(arc: containers.Archive, metadata: dict, archive: Path, output: Path, force: bool = False) -> RestoreSummary:
    """Restore from an open 0.13 archive; ``archive`` is the name errors show."""
    plan = build_plan(archive, read_json(archive, "data.json", arc.take_bytes("data.json")))
    try:
        check_free_space(arc, plan, archive, output)
        with staging_tree(output) as staging:
            with work_folder(output) as bundles:
                summary = write_plan(arc, plan, staging, bundles, archive, output)
            summary = RestoreSummary(str(output), summary[0], summary[1], summary[2],
                                     bool(metadata.get("export_parameters", {}).get("lossless", True)))
            replace_dir(staging, output, may_replace=force)  # without --force: never over another run's output
    except OSError as exc:
        raise WriteError(exc.filename or output, exc.strerror or str(exc)) from None
    finally:
        arc.close()
    return summary


def write_plan(arc: containers.Archive, plan: RestorePlan, staging: Path, bundles: Path, archive: Path,
               output: Path) -> tuple[int, int, int]:
    """Stream every planned member, then rebuild repositories, directories and mtimes."""
    seen: set[str] = set()
    total = 0
    for member, chunks in arc.iter_members():
        target = plan.targets.get(member.name)
        if target is None or chunks is None:
            continue
        seen.add(member.name)
        if target.kind == "bundle":
            bundle = Target("file", bundle_name(target.path), target.sha256)
            total += write_member(bundles, bundle, chunks, archive, member.name, member.size)
        else:
            assert target.size is not None
            total += write_member(staging, target, chunks, archive, member.name, target.size)
    missing = sorted(set(plan.targets) - seen)
    if missing:
        raise BadInputError(archive, "member missing from the archive", missing[0])
    files = [t for t in plan.targets.values() if t.kind == "file"]
    repos = [(m, t) for m, t in plan.targets.items() if t.kind == "bundle"]
    for member_name, target in repos:
        write_repository(staging, bundles, target, archive, member_name, output)
    for rel in plan.directories:
        (staging / rel).mkdir(parents=True, exist_ok=True)
    for target in files:
        finish_file(staging, target)
    return len(files), len(repos), total
