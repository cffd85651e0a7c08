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
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from converters import containers, jsonio
from converters.jsonio import gc_paused, read_json
from converters.jsonrows import LEGACY_WALK, RowReader
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
    symlinks: tuple[tuple[str, str], ...] = ()  # (path, target): made last, never followed


@dataclass(frozen=True)
class RestoreSummary:
    path: str
    files: int
    repositories: int
    bytes: int
    origin: str  # read_origin: "complete", "selective" or "unknown"
    notes: tuple[str, ...] = field(default=())
    symlinks: int = 0

    def render(self) -> str:
        text = f"restored {self.path}: {self.files} files ({self.bytes} bytes), {self.repositories} git repositories"
        if self.symlinks:
            text += f", {self.symlinks} symlinks"
        if self.origin == "selective":
            text += " (a selective export: only the exported projects and jobs)"
        elif self.origin == "unknown":
            text += " (the archive lacks reportgen export's parameters: another tool wrote it, and it may hold only part of the data_store)"
        return text


# ---------------------------------------------------------------- planning (pure)
# What the export writes, read as untrusted: any other shape is one error line naming data.json.
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a SHA-1 or SHA-256 repository's commit
_SYMBOLIC_HEAD = re.compile(r"ref: refs/[A-Za-z0-9._/-]+\n?")  # what HEAD of a bare repository holds


def build_plan(file: Path, roles: Iterable[tuple[str, object, object]]) -> RestorePlan:
    """Member -> target for every file the role nodes carry; paths are checked here.

    ``roles`` are ``(pk, its export_data.Node row, its node_attributes row)`` in
    the order of ``export_data.Node`` (``read_role_nodes``); a row that is no
    role node of the export is passed over."""
    targets: dict[str, Target] = {}
    directories: list[str] = []
    symlinks: list[tuple[str, str]] = []
    for pk, node, attrs in roles:
        if not is_role_node(attrs):
            continue
        assert isinstance(attrs, dict)
        role = attrs["entropy_role"]
        where = f"$.node_attributes[{pk!r}]"
        uuid = _object(file, node, f"$.export_data.Node[{pk!r}]").get("uuid")
        if not isinstance(uuid, str) or len(uuid) < 5:
            raise BadInputError(file, f"$.export_data.Node[{pk!r}].uuid: not a node uuid", "data.json")
        base = f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/path/"
        for at, item in _items(file, attrs, "entropy_files", where):
            targets[base + _text(file, item, "member", at)] = Target(
                "file", read_target_path(file, item, at), _digest(file, item, at), check_size(file, item.get("size")),
                _optional_int(file, item, "mtime_ns", at), bool(item.get("executable")),
            )
        for at, item in _items(file, attrs, "entropy_repositories", where):
            targets[base + _text(file, item, "member", at)] = Target(
                "bundle", read_target_path(file, item, at), _digest(file, item, at), head=_head(file, item, at),
                refs=_refs(file, item, at),
            )
        directories += [read_target_path(file, d, at) for at, d in _items(file, attrs, "entropy_directories", where)]
        if role == g.ROLE_OTHER:
            symlinks += [(read_target_path(file, s, at), read_link_target(file, s, at))
                         for at, s in _items(file, attrs, "entropy_symlinks", where)]
    if not targets:
        raise BadInputError(file, "no data_store files in this archive (was it written by reportgen export?)")
    check_plan_paths(file, list(targets.values()), directories, [path for path, _ in symlinks])
    return RestorePlan(targets, tuple(sorted(set(directories))), tuple(sorted(symlinks)))


# ---------------------------------------------------------------- reading data.json (streamed)
# Sections restore reads; each must be an object, as the whole-document reader required.
_NODES, _ATTRIBUTES = ("export_data", "Node"), ("node_attributes",)
_OBJECTS = {("export_data",): "$.export_data", _NODES: "$.export_data.Node", _ATTRIBUTES: "$.node_attributes"}
ROWS_PER_BATCH = 64  # attribute rows can be large (an output's PNG): a batch holds at most this many


def read_role_nodes(file: Path, opener: Callable[[], IO[bytes]]) -> Iterator[tuple[str, object, object]]:
    """The role nodes of data.json, as ``build_plan`` takes them, in two streamed passes.

    The first pass reads the whole document strictly (malformed JSON or a
    duplicate key are refused as the converters refuse them; an integer
    beyond 64 bits is kept exactly, as they keep it) and keeps only the attributes of role nodes, as compact JSON;
    the second reads ``export_data.Node`` for their rows, and yields each role
    node as it comes.  Memory: a batch of rows and the role nodes' attributes
    as bytes, whatever the number of jobs (every other row is dropped as soon
    as it is read)."""
    roles = read_role_attributes(file, opener)
    with gc_paused(), opener() as stream:
        for _, pk, node in RowReader(stream, str(file)).rows({_NODES}):
            if pk in roles:
                yield pk, node, jsonio.loads(roles.pop(pk))  # an ExactJson keeps an integer beyond 64 bits


def read_role_attributes(file: Path, opener: Callable[[], IO[bytes]]) -> dict[str, bytes]:
    """pk -> attributes (compact JSON) of every node whose ``entropy_role`` is one restore reads; the
    document is checked on the way (``read_role_nodes``)."""
    from converters.legacy_stream import checked_dump, checked_value  # the converters' strictness, not a copy

    roles: dict[str, bytes] = {}
    seen: set[str] = set()  # the keys of the open section: one repeated across batches is refused
    with gc_paused(), opener() as stream:
        for event in RowReader(stream, str(file)).outline(LEGACY_WALK, ROWS_PER_BATCH):
            kind, path = event[0], event[1]
            if kind == "open":
                if path in _OBJECTS and not event[2]:
                    raise BadInputError(file, f"{_OBJECTS[path]}: not a JSON object", "data.json")
                seen = set()
            elif kind == "value":
                if path in _OBJECTS:
                    raise BadInputError(file, f"{_OBJECTS[path]}: not a JSON object", "data.json")
                checked_value(str(file), path, event[2])
            elif kind == "rows":
                checked_dump(str(file), opener, path, event[2], event[3], event[4], seen)
                if path == _ATTRIBUTES:
                    keep_roles(roles, event[2])
    return roles


def keep_roles(roles: dict[str, bytes], rows: dict[str, Any]) -> None:
    roles.update((pk, jsonio.dumps(attrs)) for pk, attrs in rows.items() if is_role_node(attrs))


def is_role_node(attrs: object) -> bool:
    """A node whose attributes say it carries data_store files (raw files, git history, other files)."""
    return isinstance(attrs, dict) and attrs.get("entropy_role") in (g.ROLE_RAW, g.ROLE_GIT, g.ROLE_OTHER)


def check_plan_paths(file: Path, targets: list[Target], directories: list[str], symlinks: list[str] = ()) -> None:
    """Refuse a plan whose paths collide: one path twice, a file (or a repository) inside a
    file or a symlink, or anything inside a repository.  The last one matters most: a
    repository is rebuilt from its bundle alone, and a carried ``config`` or
    ``objects/info/alternates`` inside it would be read by git, whose config can name commands
    to run.  Nothing inside a symlink also means nothing is ever written through one."""
    kinds: dict[str, str] = {}
    for path, kind in [(t.path, t.kind) for t in targets] + [(path, "symlink") for path in symlinks]:
        if path in kinds:
            raise BadInputError(file, f"{path!r} is listed twice in the archive's file list", "data.json")
        kinds[path] = kind
    for path in list(kinds) + directories:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            if kinds.get(above) in ("file", "symlink"):
                raise BadInputError(file, f"{path!r} is inside {above!r}, which the archive lists as a {kinds[above]}", "data.json")
            if kinds.get(above) == "bundle":
                raise BadInputError(file, f"{path!r} is inside the git repository {above!r}, which is rebuilt from its bundle alone", "data.json")
    for path in directories:
        if path in kinds:
            raise BadInputError(file, f"{path!r} is listed both as a folder and as a file or repository", "data.json")


def _object(file: Path, value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise BadInputError(file, f"{where}: not a JSON object", "data.json")
    return value


def _items(file: Path, attrs: dict, key: str, where: str) -> Iterator[tuple[str, dict]]:
    """``(its JSON path, entry)`` of each entry of a list attribute, each an object."""
    entries = attrs.get(key, [])
    if not isinstance(entries, list):
        raise BadInputError(file, f"{where}.{key}: not a list", "data.json")
    for index, item in enumerate(entries):
        yield f"{where}.{key}[{index}]", _object(file, item, f"{where}.{key}[{index}]")


def _text(file: Path, item: dict, key: str, at: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise BadInputError(file, f"{at}.{key}: not a non-empty string", "data.json")
    return value


def _digest(file: Path, item: dict, at: str) -> str:
    value = item.get("sha256")
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise BadInputError(file, f"{at}.sha256: not a SHA-256 in hex", "data.json")
    return value


def _optional_int(file: Path, item: dict, key: str, at: str) -> int | None:
    value = item.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadInputError(file, f"{at}.{key}: not an integer", "data.json")
    return value


def _head(file: Path, item: dict, at: str) -> str:
    """What HEAD held: a symbolic ref or a commit id, nothing else (it is written as the file HEAD)."""
    head = item.get("head", "")
    if head == "":
        return ""
    if not (isinstance(head, str) and ".." not in head
            and (_SYMBOLIC_HEAD.fullmatch(head) or _OBJECT_ID.fullmatch(head.strip()))):  # fmt: skip
        raise BadInputError(file, f"{at}.head: not a symbolic ref or a commit id: {head!r:.80}", "data.json")
    return head


def _refs(file: Path, item: dict, at: str) -> tuple[tuple[str, str], ...]:
    refs = item.get("refs", [])
    if not isinstance(refs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair) for pair in refs
    ):
        raise BadInputError(file, f"{at}.refs: not a list of [ref, commit] pairs", "data.json")
    return tuple((ref, sha) for ref, sha in refs)


def read_target_path(file: Path, item: dict, at: str) -> str:
    """The data_store path of an entry: ``path``, or ``path_hex`` for bytes that are not UTF-8."""
    return check_rel_path(file, _recorded_text(file, item, "path", at))


def read_link_target(file: Path, item: dict, at: str) -> str:
    """A symlink's target as recorded (``target``, or ``target_hex`` for bytes that are not UTF-8):
    any text but empty or holding NUL.  It is only ever stored, never followed or checked."""
    target = _recorded_text(file, item, "target", at)
    if not target or "\0" in target:
        raise BadInputError(file, f"{at}.target: not a symlink target", "data.json")
    return target


def _recorded_text(file: Path, item: dict, key: str, at: str) -> str:
    """``item[key]`` as export records a name: the text, or ``<key>_hex`` holding the bytes of one
    that is not UTF-8 (kept as surrogates)."""
    if f"{key}_hex" in item:
        try:
            text = bytes.fromhex(item[f"{key}_hex"]).decode("utf-8", "surrogateescape")
        except (TypeError, ValueError):
            raise BadInputError(file, f"{at}.{key}_hex: not hex digits", "data.json") from None
        return text  # empty: the caller's own check refuses it
    return _text(file, item, key, at)


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
def parent_of(rel: str) -> str:
    """The folder part of a checked relative path ('' for a name at the top)."""
    return rel.rpartition("/")[0]


def make_folders(staging: Path, rel: str) -> None:
    """``staging/rel`` and every folder above it, one level at a time: pathlib's
    ``mkdir(parents=True)`` recurses once per missing parent, and a path from an archive's
    file list may have a thousand segments (``check_rel_path`` made them safe)."""
    folder = str(staging)
    for part in rel.split("/") if rel else ():
        folder += "/" + part
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise


def write_member(staging: Path, target: Target, chunks: Iterator[bytes], file: Path, member: str,
                 limit: int) -> int:
    """Stream one member to its place, checking size and SHA-256; returns the byte count.

    Writing stops at the first byte beyond ``limit`` (the recorded size): what
    the archive declared is all that is ever written.
    """
    dest = staging / target.path
    make_folders(staging, parent_of(target.path))
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
    make_folders(staging, parent_of(target.path))
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
    containers.check_parent_exists(output)


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
    metadata = read_metadata(archive, arc)
    if metadata.get("export_version") == RESTORABLE_VERSION:
        return restore_from(arc, metadata, archive, output, force)
    from converters.migrate import migrate

    arc.close()
    with work_folder(output) as tmp:
        converted = tmp / f"as-{RESTORABLE_VERSION}.zip"
        migrate(archive, converted, RESTORABLE_VERSION, fmt="zip", limits=limits)
        arc = containers.open_archive(converted, limits)
        metadata = read_metadata(archive, arc)
        return restore_from(arc, metadata, archive, output, force)


def read_metadata(archive: Path, arc: containers.Archive) -> dict:
    metadata = read_json(archive, "metadata.json", arc.read_bytes("metadata.json"))
    if not isinstance(metadata, dict):
        raise BadInputError(archive, "not a JSON object", "metadata.json")
    return metadata


def read_origin(metadata: dict) -> str:
    """``complete``, ``selective`` (reportgen export of some projects or jobs), or ``unknown``: an
    archive without reportgen's export parameters (AiiDA re-exported it, perhaps only part of it)."""
    parameters = metadata.get("export_parameters")
    if not isinstance(parameters, dict) or not isinstance(parameters.get("lossless"), bool):
        return "unknown"
    return "complete" if parameters["lossless"] else "selective"


def restore_from(arc: containers.Archive, metadata: dict, archive: Path, output: Path, force: bool = False) -> RestoreSummary:
    """Restore from an open 0.13 archive; ``archive`` is the name errors show."""
    plan = build_plan(archive, read_role_nodes(archive, lambda: arc.open_member("data.json")))
    try:
        check_free_space(arc, plan, archive, output)
        with staging_tree(output) as staging:
            with work_folder(output) as bundles:
                summary = write_plan(arc, plan, staging, bundles, archive, output)
            summary = RestoreSummary(str(output), summary[0], summary[1], summary[2], read_origin(metadata),
                                     symlinks=len(plan.symlinks))
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
        make_folders(staging, rel)
    for target in files:
        finish_file(staging, target)
    for rel, pointed in plan.symlinks:  # last: no path is inside one (check_plan_paths), nothing follows them
        make_folders(staging, parent_of(rel))
        os.symlink(pointed, staging / rel)
    return len(files), len(repos), total
