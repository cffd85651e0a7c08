"""Offline audit bundles: a BagIt bag (RFC 8493) of the static site and the export archive.

Layout (a "bag")::

    BUNDLE/
      bagit.txt                       BagIt-Version 1.0, UTF-8
      bag-info.txt                    tool version, source, export parameters, Payload-Oxum
      manifest-sha256.txt             one line per payload file
      manifest-sha512.txt
      tagmanifest-sha256.txt          bagit.txt, bag-info.txt, README.txt and the payload manifests
      tagmanifest-sha512.txt
      README.txt                      what the bag holds and how to check it without reportgen
      data/site/...                   the static run catalog (open data/site/index.html)
      data/export.aiida               the export archive (zip, export version 0.13)

The bag files are written here, not by ``bagit.make_bag`` (which moves the
files of the folder it is given, and stamps today's date): lines are sorted,
and ``Bagging-Date`` is ``SOURCE_DATE_EPOCH``'s day when it is set, else the day
of the newest job in the data (never the wall clock), so the same data_store
gives the same tag files.  ``verify_bundle`` recomputes
every checksum in full (never the size-only "fast" check) and names every
symlink and every changed, missing or extra file, by repr(); it never follows a link.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from converters import containers, progress
from reportgen import __version__
from reportgen.errors import BadInputError, InputMissingError, OutputError
from reportgen.outdir import check_output_path, remove_stale_staging, replace_dir, staging_tree
from reportgen.readers.datastore import check_data_store_given

if TYPE_CHECKING:  # the export's modules are imported when a bag is written, not to verify one
    from reportgen.export import ExportSummary

ALGORITHMS = ("sha256", "sha512")
PAYLOAD = "data"
ARCHIVE_NAME = "export.aiida"
README = "README.txt"  # a tag file: listed in the tag manifests
SITE_NAME = "site"
CHUNK = 1024 * 1024


def render_json_doc(doc: dict) -> str:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


@dataclass(frozen=True)
class BundleSummary:
    path: str
    files: int
    bytes: int

    def render(self) -> str:
        return f"wrote bundle {self.path}: {self.files} payload files, {self.bytes} bytes, sha256 + sha512 manifests"


VERIFY_FORMAT = "reportgen-bundle-verify/1"  # changes when a key of the JSON verdict changes meaning or goes away
KINDS = ("changed", "missing", "extra", "symlink")  # every kind of problem verify reports (docs/export.md)


@dataclass(frozen=True)
class BagProblem:
    """One finding of verify: its kind, the bag-relative file it is about, and what follows the name."""

    kind: str  # one of KINDS
    path: str
    detail: str = ""  # " (sha256 mismatch)", " -> '/etc' (a bag holds no links; never followed)"

    def describe(self) -> str:
        return f"{self.kind}: {self.path!r}{self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    path: str
    files: int
    found: tuple[BagProblem, ...] = field(default=())

    @property
    def problems(self) -> tuple[str, ...]:
        """The problem lines: "missing: 'data/y'", "symlink: 'data/z' -> '/etc' (…)"."""
        return tuple(p.describe() for p in self.found)

    def render(self) -> str:
        return f"bundle {self.path} is valid: {self.files} files, every sha256 and sha512 checksum matches"

    def render_json(self) -> str:
        """The verdict for scripts (``bundle verify --json``): every problem with its kind and file."""
        problems = [{"kind": p.kind, "path": p.path, "message": p.describe()} for p in self.found]
        return render_json_doc({"format": VERIFY_FORMAT, "bundle": self.path, "valid": not self.found,
                                "files": self.files, "problems": problems})

    def check(self) -> None:
        """Raise the one error line when anything was wrong (each problem is listed first)."""
        if self.problems:
            raise BadInputError(self.path, f"bundle invalid: {len(self.problems)} problem(s), first: {self.problems[0]}")


# ---------------------------------------------------------------- writing
def write_bundle(data_store: Path | str, output: Path | str, force: bool = False,
                 config: Path | None = None, organization: str = "") -> BundleSummary:
    """Build the site and the archive of ``data_store`` into a new bag at ``output``; ``config``
    (``build --config``) gives the site its catalog columns, figure views and templates;
    ``organization``, when given, is the bag's ``Source-Organization``."""
    root, output = Path(data_store), Path(output)
    check_paths(root, output, force)
    containers.source_date_epoch()  # a bad SOURCE_DATE_EPOCH is refused before any work, not at the end
    remove_stale_staging(output)  # what a run killed with SIGKILL left beside this output
    with staging_tree(output) as staging:
        (staging / PAYLOAD).mkdir()
        exported = write_payload(root, staging / PAYLOAD, config)
        info = build_bag_info(root, exported.parameters, exported.newest, build_archive_format(exported), organization)
        write_text(staging / README, render_readme(info, (staging / PAYLOAD / SITE_NAME).is_dir()))
        summary = write_tag_files(staging, info)
        replace_dir(staging, output, may_replace=force)  # without --force: never over another run's output
    return BundleSummary(str(output), summary[0], summary[1])


def check_paths(root: Path, output: Path, force: bool) -> None:
    check_output_path(output)  # '.', '..': the folder the user's shell is in
    check_data_store_given(root)
    out_abs, root_abs = Path(os.path.abspath(output)), Path(os.path.abspath(root))
    if out_abs == root_abs or root_abs in out_abs.parents or out_abs in root_abs.parents:
        raise OutputError(output, "output overlaps input")
    if output.is_symlink():
        raise OutputError(output, "output is a symlink; refusing to write through it")
    if output.exists() and not force:
        raise OutputError(output, "output exists (use --force to replace it)")
    if output.exists() and not (output / "bagit.txt").is_file():
        raise OutputError(output, "output exists and is not a bundle; refusing to replace it")
    containers.check_parent_exists(output)


def write_payload(root: Path, payload: Path, config: Path | None = None) -> ExportSummary:
    """The site (when the site builder is installed) and the export archive; the archive's summary."""
    from reportgen.export import export_archive

    build_site = _site_builder()
    if build_site is not None:
        build_site(root, payload / SITE_NAME, config)
    return export_archive(root, payload / ARCHIVE_NAME)


def _site_builder():
    try:
        from reportgen.site.build import BuildOptions, build_site, render_report
    except ImportError:
        return None

    def build(root: Path, site: Path, config: Path | None) -> None:
        # Built in a work folder beside the payload: the builder leaves a lock file next to its
        # output, and its build-report.json holds timings, which would make bags differ run to
        # run; the bundled copy is rewritten with the timings left out.
        work = site.parent.parent / ".site-work"
        work.mkdir()
        report = build_site(root, work / SITE_NAME, BuildOptions(show_progress=False, config_file=config, offline=True))
        (work / SITE_NAME / "build-report.json").write_bytes(render_report(replace(report, timings={})))
        os.replace(work / SITE_NAME, site)
        shutil.rmtree(work)

    return build


def build_bag_info(root: Path, parameters: dict, newest: datetime | None = None,
                   archive_format: str = "", organization: str = "") -> list[tuple[str, str]]:
    """The bag-info.txt lines.  ``Bagging-Date`` is SOURCE_DATE_EPOCH's day, else ``newest`` (the
    newest job time of the data): never the clock, so the same data gives the same bag.
    ``Source-Organization`` is the organisation sending the bag (RFC 8493 2.2.2), which only the
    user knows: written when given (``--organization``), left out otherwise, never guessed."""
    info = [
        ("Bag-Software-Agent", f"reportgen {__version__}"),
        *([("Source-Organization", organization)] if organization.strip() else []),
        ("External-Identifier", root.resolve().name),
        ("External-Description", "Offline audit bundle: static run catalog (data/site) and AiiDA export "
         "archive (data/export.aiida) of one data_store"),
        *([("Reportgen-Archive-Format", archive_format)] if archive_format else []),
        *build_parameter_lines(parameters),
    ]
    day = build_bagging_date(newest)
    if day:
        info.append(("Bagging-Date", day))
    return info


def build_bagging_date(newest: datetime | None) -> str:
    """YYYY-MM-DD of SOURCE_DATE_EPOCH, else of ``newest`` (naive: UTC, as the archive writes it,
    never the machine's zone), else "" (a data_store without a job has no date of its own)."""
    epoch = containers.source_date_epoch()  # a bad value is a usage error naming the variable
    if epoch is not None:
        return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d")
    if newest is None:
        return ""
    utc = newest.replace(tzinfo=timezone.utc) if newest.tzinfo is None else newest.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%d")


def build_archive_format(exported: ExportSummary) -> str:
    """What data/export.aiida is, for a reader who never saw reportgen."""
    return f"AiiDA export archive, export version {exported.export_version}, {exported.fmt} container"


def render_readme(info: list[tuple[str, str]], has_site: bool) -> str:
    """README.txt: what the bag holds and how to check it with standard tools (no reportgen)."""
    fields = dict(info)
    site = ("  data/site/index.html   the static run catalog: open it in a web browser, straight from disk\n"
            if has_site else "")
    return (
        f"Offline audit bundle of an Entropy Hub data_store, written by {fields['Bag-Software-Agent']}.\n"
        "\n"
        "This folder is a BagIt bag (RFC 8493, https://www.rfc-editor.org/rfc/rfc8493):\n"
        f"{site}"
        f"  data/export.aiida      the data: {fields.get('Reportgen-Archive-Format', 'an AiiDA export archive')}\n"
        "                         (aiida-core imports it: verdi archive import data/export.aiida;\n"
        "                         any zip or tar tool lists it)\n"
        "  bag-info.txt           what the bag was made from; Bagging-Date is the day of SOURCE_DATE_EPOCH\n"
        "                         when it was set, else the day of the newest job in the data\n"
        "  manifest-sha256.txt    a checksum of every file under data/ (also manifest-sha512.txt)\n"
        "  tagmanifest-sha256.txt a checksum of these tag files (also tagmanifest-sha512.txt)\n"
        "\n"
        "To check that nothing changed, in this folder, without reportgen:\n"
        "  sha256sum --strict -c manifest-sha256.txt      (GNU coreutils: every line must end in OK;\n"
        "                                                 --strict also fails on a damaged line)\n"
        "  sha512sum --strict -c manifest-sha512.txt\n"
        "  sha256sum --strict -c tagmanifest-sha256.txt\n"
        "  sha512sum --strict -c tagmanifest-sha512.txt\n"
        "  bagit.py --validate .                          (pip install bagit; also finds a file added\n"
        "                                                 under data/, which sha256sum -c cannot see)\n"
        "With reportgen: reportgen bundle verify THIS_FOLDER\n"
    )


def build_parameter_lines(parameters: dict) -> list[tuple[str, str]]:
    """The export parameters, with the project and job lists as counts: those lists grow with the
    store (19 kB on one line for 900 jobs) and are in the archive's metadata.json in full."""
    short = {key: value for key, value in parameters.items() if key not in ("projects", "jobs")}
    return [
        ("Reportgen-Exported-Projects", str(len(parameters.get("projects", ())))),
        ("Reportgen-Exported-Jobs", str(len(parameters.get("jobs", ())))),
        ("Reportgen-Export-Parameters", json.dumps(short, sort_keys=True, ensure_ascii=True)),
    ]


def list_payload(bag: Path) -> list[str]:
    """Every regular file under data/, as bag-relative posix paths, sorted (``list_bag``)."""
    return list_bag(bag)[0]


def list_bag(bag: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """One walk of the bag: every regular file under data/ (bag-relative posix paths), and every
    symlink anywhere (tag files, data/, folders) with its target; both sorted.

    Symlinks are never followed: a payload behind a link is not in the bag.  os.walk lists a link
    to a folder among the folders and does not enter it, so links are picked out of both lists;
    without this a linked folder was silently skipped."""
    payload: list[str] = []
    links: list[tuple[str, str]] = []
    for top, dirs, files in walk_bag(bag):
        rel = Path(top).relative_to(bag)
        in_payload = rel.parts[:1] == (PAYLOAD,)  # data/ itself a link: listed as one, never entered
        for name, is_file in [(d, False) for d in dirs] + [(f, True) for f in files]:
            path = Path(top, name)
            if os.path.islink(path):
                links.append(((rel / name).as_posix(), os.readlink(path)))
            elif in_payload and is_file:
                payload.append((rel / name).as_posix())
    return sorted(payload), sorted(links)


def walk_bag(top: Path):
    from reportgen.export.write import refuse_unlistable  # a folder that cannot be listed: one line

    for here, dirs, files in os.walk(top, onerror=refuse_unlistable):  # not followlinks: stays in the bag
        dirs.sort()
        yield here, dirs, files


def read_digests(path: Path | int) -> dict[str, str]:
    """sha256 and sha512 of a file, given by path or by an open descriptor (closed here)."""
    hashes = {name: hashlib.new(name) for name in ALGORITHMS}
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashes.items()}


def encode_path(path: str) -> str:
    """RFC 8493 section 2.1.3: percent-encode %, CR and LF in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n").replace("%25", "%")


def write_tag_files(bag: Path, info: list[tuple[str, str]]) -> tuple[int, int]:
    files = list_payload(bag)
    digests = {path: read_digests(bag / path) for path in progress.counted(files, "checksums", len(files), "file")}
    total = sum((bag / path).stat().st_size for path in files)
    write_text(bag / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    lines = [f"{key}: {render_tag_value(value)}" for key, value in info] + [f"Payload-Oxum: {total}.{len(files)}"]
    write_text(bag / "bag-info.txt", "\n".join(lines) + "\n")
    for name in ALGORITHMS:
        write_text(bag / f"manifest-{name}.txt", "".join(f"{digests[p][name]}  {encode_path(p)}\n" for p in files))
    tags = ["bag-info.txt", "bagit.txt", *(f"manifest-{name}.txt" for name in ALGORITHMS)]
    tags += [README] if (bag / README).is_file() else []
    tag_digests = {tag: read_digests(bag / tag) for tag in tags}
    for name in ALGORITHMS:
        write_text(bag / f"tagmanifest-{name}.txt", "".join(f"{tag_digests[t][name]}  {t}\n" for t in tags))
    return len(files), total


# Line breaks (a folder name may hold one) would start a new tag: a name like "x\nBagging-Date: 1999-01-01"
# forged a date that bagit and `bundle verify` accepted.  Other controls have no place in a tag line either.
_TAG_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def render_tag_value(value: str) -> str:
    """A bag-info.txt value on its one line: every control character and line separator is a space."""
    return _TAG_UNSAFE.sub(" ", value)


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def verify_bundle(bundle: Path | str) -> VerifyReport:
    """Recompute every checksum of the bag; list each symlink and each changed, missing or extra file.

    Names in the problems are shown by repr(), as in the error line: a percent-encoded line break
    in a manifest stays on its line, and a name that is not UTF-8 keeps its bytes (surrogateescape,
    shown as ``\\udcXX`` for byte XX)."""
    bag = Path(bundle)
    if bag.exists() and not bag.is_dir():
        raise BadInputError(bag, "is a file, not a bag folder (unpack a serialized bag first)")
    if not bag.is_dir():
        raise InputMissingError(bag, "no such bundle directory")
    if not (bag / "bagit.txt").is_file():
        raise BadInputError(bag, "not a BagIt bag (no bagit.txt)")
    if (bag / "fetch.txt").exists():
        raise BadInputError(bag, "fetch.txt is not allowed: an audit bundle must be self-contained", "fetch.txt")
    files, links = list_bag(bag)
    problems = [BagProblem("symlink", rel, f" -> {target!r} (a bag holds no links; never followed)") for rel, target in links]
    payload = set(files)
    manifests = read_manifests(bag, "manifest", problems)
    tagmanifests = read_manifests(bag, "tagmanifest", problems)
    listed = set().union(*(set(m) for m in manifests.values()))
    problems += check_entries(bag, manifests, payload, confirmed_manifests(bag, tagmanifests))
    problems += check_entries(bag, tagmanifests, None)
    if not any(p.path.startswith(f"{PAYLOAD}/") or p.path == PAYLOAD for p in problems):
        problems += check_oxum(bag, files)  # else the per-file lines already say why it would differ
    problems += [BagProblem("extra", path, " (in no manifest)") for path in sorted(payload - listed)]
    top = [p for p in sorted(bag.iterdir()) if not p.is_symlink()]  # links: reported above, never followed
    tags = {p.name for p in top if p.is_file()} - {f"tagmanifest-{n}.txt" for n in ALGORITHMS}
    problems += [BagProblem("extra", t, " (in no tag manifest)")
                 for t in sorted(tags - set().union(*map(set, tagmanifests.values())))]
    problems += [BagProblem("extra", p.name + "/", f" (a directory outside {PAYLOAD}/)") for p in top
                 if p.is_dir() and p.name != PAYLOAD]
    return VerifyReport(str(bag), len(payload), tuple(dict.fromkeys(problems)))


def read_manifests(bag: Path, kind: str, problems: list[BagProblem]) -> dict[str, dict[str, str]]:
    """The manifests of one kind that exist, by algorithm.  A missing one is one problem line: its
    entries are not compared (every file would otherwise be "absent" from it, one line each)."""
    found = {name: read_manifest(bag, f"{kind}-{name}.txt", problems) for name in ALGORITHMS}
    return {name: entries for name, entries in found.items() if entries is not None}


def read_manifest(bag: Path, name: str, problems: list[BagProblem]) -> dict[str, str] | None:
    """path -> digest; a missing manifest is a problem (and None), an unsafe path an error.

    Read as bytes and split at line ends only (str.splitlines also splits at U+2028, U+0085 and
    others, which may be in a name); bytes that are not UTF-8 are kept by surrogateescape, so a
    name is shown with its real bytes and matches a file of that name."""
    fd = open_in_bag(bag, name)
    if fd is None:
        problems.append(BagProblem("missing", name, through_link(bag, name)))
        return None
    with open(fd, "rb") as fh:
        lines = fh.read().splitlines()
    entries = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue  # a blank line names no file (bagit-python skips it too)
        digest, _, rel = line.decode("utf-8", "surrogateescape").partition(" ")
        rel = decode_path(rel.lstrip(" *"))
        if not rel:  # a copy cut short in its last line, or NUL padding: damage, not an attack
            problems.append(BagProblem("changed", name, f" (line {number} names no file: cut short or damaged)"))
            continue
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or "\\" in rel or "\0" in rel:
            raise BadInputError(bag, f"unsafe path in {name} line {number}", rel)
        entries[rel] = digest.lower()
    return entries


def open_in_bag(bag: Path, rel: str) -> int | None:
    """A descriptor of the regular file bag/rel, or None when there is none.

    Opened one folder at a time with O_NOFOLLOW, so a symlink anywhere on the way (data/site ->
    /elsewhere) is refused by the kernel instead of followed out of the bag: checking the last
    component alone read every file behind a linked folder.  O_NONBLOCK: a FIFO is not waited on."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    *folders, leaf = rel.split("/")
    fd = os.open(bag, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the bag itself: named by the user
    try:
        for folder in folders:
            inner = os.open(folder, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf_fd = os.open(leaf, flags | os.O_NONBLOCK, dir_fd=fd)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # ELOOP: a symlink; EACCES, EIO: one line naming the whole path
            from reportgen.export.write import unreadable_input

            raise unreadable_input(bag / rel, exc) from None
        return None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(leaf_fd).st_mode):
        os.close(leaf_fd)
        return None
    return leaf_fd


def through_link(bag: Path, rel: str) -> str:
    """Why bag/rel was not read, when a symlink is the reason (for the problem line only: the
    descriptor was opened without following any link, so this check cannot be raced into reading)."""
    parts = rel.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        if os.path.islink(bag / prefix):
            if end == len(parts):
                return " (a symlink, not followed)"
            return f" (behind the symlink {prefix!r}, not followed)"
    return ""


def confirmed_manifests(bag: Path, tagmanifests: dict[str, dict[str, str]]) -> frozenset[str]:
    """The algorithms whose payload manifest the tag manifests vouch for: listed in at least one,
    and matching every one that lists it.  Only such a manifest's line can outvote a file."""
    confirmed = set()
    for name in ALGORITHMS:
        rel = f"manifest-{name}.txt"
        recorded = {alg: entries[rel] for alg, entries in tagmanifests.items() if rel in entries}
        fd = open_in_bag(bag, rel) if recorded else None
        actual = read_digests(fd) if fd is not None else {}
        if actual and all(actual[alg] == digest for alg, digest in recorded.items()):
            confirmed.add(name)
    return frozenset(confirmed)


def check_entries(bag: Path, manifests: dict[str, dict[str, str]], payload: set[str] | None,
                  confirmed: frozenset[str] = frozenset()) -> list[BagProblem]:
    """Each listed file against each manifest's line.  When manifests disagree about a file, the
    line that changed is the one in a manifest the tag manifests do not confirm (``confirmed``):
    a file edited together with one manifest's line is still named, by the intact manifest."""
    problems = []
    kind = "manifest" if payload is not None else "tagmanifest"
    paths = sorted(set().union(*(set(m) for m in manifests.values())))
    for rel in progress.counted(paths, "checking " + ("payload" if payload is not None else "tag files"), len(paths), "file"):
        fd = open_in_bag(bag, rel)
        if fd is None:
            problems.append(BagProblem("missing", rel, through_link(bag, rel)))
            continue
        digests = read_digests(fd)
        wrong = [name for name, manifest in manifests.items() if rel in manifest and manifest[rel] != digests[name]]
        agreeing = [name for name, manifest in manifests.items() if rel in manifest and name not in wrong]
        if wrong and agreeing and not confirmed.intersection(wrong):  # the file matches the other manifest,
            # and no tag manifest vouches for the disagreeing one: its line is what changed
            problems += [BagProblem("changed", f"{kind}-{name}.txt", f" (its {name} of {rel!r} does not match the file, "
                                    f"which {f'{kind}-{agreeing[0]}.txt'!r} confirms)") for name in wrong]
        else:
            problems += [BagProblem("changed", rel, f" ({name} mismatch)") for name in wrong]
    return problems + check_unlisted(manifests, paths, kind)


OXUM = re.compile(r"([0-9]{1,20})\.([0-9]{1,20})")  # ASCII digits: \d takes any script's, and int() reads them


def check_oxum(bag: Path, files: list[str]) -> list[BagProblem]:
    """``Payload-Oxum`` of bag-info.txt (RFC 8493 section 2.2.2, optional) against the payload:
    bytes and number of files.  A bag whose oxum is wrong is invalid to bagit-python too; checked
    when every payload file matched, so a wrong oxum there means bag-info.txt was edited."""
    declared = read_tag_value(bag, "bag-info.txt", "Payload-Oxum")
    if declared is None:
        return []
    found = OXUM.fullmatch(declared.strip())
    count, size = len(files), sum(os.lstat(bag / rel).st_size for rel in files)
    if found is None:
        return [BagProblem("changed", "bag-info.txt", f" (Payload-Oxum {declared!r} is not OCTETS.COUNT)")]
    if (int(found.group(1)), int(found.group(2))) != (size, count):
        return [BagProblem("changed", "bag-info.txt", f" (Payload-Oxum says {found.group(2)} files and "
                           f"{found.group(1)} bytes; the payload has {count} files and {size} bytes)")]
    return []


def read_tag_value(bag: Path, name: str, key: str) -> str | None:
    """The value of ``key`` in the tag file ``name`` (first occurrence; continuation lines joined),
    None when the file or the key is absent.  Read without following links, like every bag file."""
    fd = open_in_bag(bag, name)
    if fd is None:
        return None
    with open(fd, "rb") as fh:
        lines = fh.read(1 << 20).decode("utf-8", "replace").splitlines()
    for number, line in enumerate(lines):
        label, colon, value = line.partition(":")
        if colon and label.strip() == key:
            more = [rest.strip() for rest in itertools.takewhile(lambda t: t[:1] in (" ", "\t") and t.strip(), lines[number + 1:])]
            return " ".join([value.strip(), *more])
    return None


def check_unlisted(manifests: dict[str, dict[str, str]], paths: list[str], kind: str) -> list[BagProblem]:
    """One line per manifest that lacks lines the other manifest has: the manifest is what changed
    (a manifest emptied or cut short is one line, not one per file)."""
    problems = []
    for name, manifest in manifests.items():
        absent = [rel for rel in paths if rel not in manifest]
        if absent:
            many = f"{len(absent)} files the other manifest lists, first {absent[0]!r}" if len(absent) > 1 else repr(absent[0])
            problems.append(BagProblem("changed", f"{kind}-{name}.txt", f" (has no line for {many})"))
    return problems
