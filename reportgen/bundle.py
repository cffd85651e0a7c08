"""Offline audit bundles: a BagIt bag (RFC 8493) of the static site and the export archive.

Layout (a "bag")::

    BUNDLE/
      bagit.txt                       BagIt-Version 1.0, UTF-8
      bag-info.txt                    tool version, source, export parameters, Payload-Oxum
      manifest-sha256.txt             one line per payload file
      manifest-sha512.txt
      tagmanifest-sha256.txt          bagit.txt, bag-info.txt and the payload manifests
      tagmanifest-sha512.txt
      data/site/...                   the static run catalog (open data/site/index.html)
      data/export.aiida               the export archive (zip, export version 0.13)

The bag files are written here, not by ``bagit.make_bag`` (which moves the
files of the folder it is given, and stamps today's date): lines are sorted,
and ``Bagging-Date`` is written only when ``SOURCE_DATE_EPOCH`` is set, so
the same data_store gives the same tag files.  ``verify_bundle`` recomputes
every checksum in full (never the size-only "fast" check) and names every
changed, missing or extra file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from converters import containers, progress
from reportgen import __version__
from reportgen.errors import BadInputError, InputMissingError, OutputError
from reportgen.outdir import check_output_path, remove_stale_staging, replace_dir, staging_tree

ALGORITHMS = ("sha256", "sha512")
PAYLOAD = "data"
ARCHIVE_NAME = "export.aiida"
SITE_NAME = "site"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BundleSummary:
    path: str
    files: int
    bytes: int

    def render(self) -> str:
        return f"wrote bundle {self.path}: {self.files} payload files, {self.bytes} bytes, sha256 + sha512 manifests"


@dataclass(frozen=True)
class VerifyReport:
    path: str
    files: int
    problems: tuple[str, ...] = field(default=())  # "changed: data/x", "missing: data/y", "extra: data/z"

    def render(self) -> str:
        return f"bundle {self.path} is valid: {self.files} files, every sha256 and sha512 checksum matches"

    def check(self) -> None:
        """Raise the one error line when anything was wrong (each problem is listed first)."""
        if self.problems:
            raise BadInputError(self.path, f"bundle invalid: {len(self.problems)} problem(s), first: {self.problems[0]}")


# ---------------------------------------------------------------- writing
def write_bundle(data_store: Path | str, output: Path | str, force: bool = False) -> BundleSummary:
    """Build the site and the archive of ``data_store`` into a new bag at ``output``."""
    root, output = Path(data_store), Path(output)
    check_paths(root, output, force)
    containers.source_date_epoch()  # a bad SOURCE_DATE_EPOCH is refused before any work, not at the end
    remove_stale_staging(output)  # what a run killed with SIGKILL left beside this output
    with staging_tree(output) as staging:
        (staging / PAYLOAD).mkdir()
        parameters = write_payload(root, staging / PAYLOAD)
        summary = write_tag_files(staging, build_bag_info(root, parameters))
        replace_dir(staging, output, may_replace=force)  # without --force: never over another run's output
    return BundleSummary(str(output), summary[0], summary[1])


def check_paths(root: Path, output: Path, force: bool) -> None:
    check_output_path(output)  # '.', '..': the folder the user's shell is in
    if not root.is_dir():
        raise InputMissingError(root, "no such data_store directory")
    out_abs, root_abs = Path(os.path.abspath(output)), Path(os.path.abspath(root))
    if out_abs == root_abs or root_abs in out_abs.parents or out_abs in root_abs.parents:
        raise OutputError(output, "output overlaps input")
    if output.is_symlink():
        raise OutputError(output, "output is a symlink; refusing to write through it")
    if output.exists() and not force:
        raise OutputError(output, "output exists (use --force to replace it)")
    if output.exists() and not (output / "bagit.txt").is_file():
        raise OutputError(output, "output exists and is not a bundle; refusing to replace it")
    if not out_abs.parent.is_dir():
        raise OutputError(output, "output directory does not exist")


def write_payload(root: Path, payload: Path) -> dict:
    """The site (when the site builder is installed) and the export archive."""
    from reportgen.export import export_archive

    build_site = _site_builder()
    if build_site is not None:
        build_site(root, payload / SITE_NAME)
    summary = export_archive(root, payload / ARCHIVE_NAME)
    return summary.parameters


def _site_builder():
    try:
        from reportgen.site.build import BuildOptions, build_site, render_report
    except ImportError:
        return None

    def build(root: Path, site: Path) -> None:
        # Built in a work folder beside the payload: the builder leaves a lock file next to its
        # output, and its build-report.json holds timings, which would make bags differ run to
        # run; the bundled copy is rewritten with the timings left out.
        work = site.parent.parent / ".site-work"
        work.mkdir()
        report = build_site(root, work / SITE_NAME, BuildOptions(show_progress=False))
        (work / SITE_NAME / "build-report.json").write_bytes(render_report(replace(report, timings={})))
        os.replace(work / SITE_NAME, site)
        shutil.rmtree(work)

    return build


def build_bag_info(root: Path, parameters: dict) -> list[tuple[str, str]]:
    info = [
        ("Bag-Software-Agent", f"reportgen {__version__}"),
        ("Source-Organization", "Entropy Hub data_store"),
        ("External-Identifier", root.resolve().name),
        ("External-Description", "Offline audit bundle: static run catalog (data/site) and AiiDA export "
         "archive (data/export.aiida) of one data_store"),
        *build_parameter_lines(parameters),
    ]
    epoch = containers.source_date_epoch()  # a bad value is a usage error naming the variable
    if epoch is not None:
        info.append(("Bagging-Date", datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d")))
    return info


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
    """Every regular file under data/, as bag-relative posix paths, sorted."""
    from reportgen.export.write import refuse_unlistable

    found: list[str] = []
    if not (bag / PAYLOAD).is_dir():  # a bag without data/: each manifest entry is reported missing
        return found
    for top, dirs, files in os.walk(bag / PAYLOAD, onerror=refuse_unlistable):
        dirs.sort()
        for name in files:
            found.append(Path(top, name).relative_to(bag).as_posix())
    return sorted(found)


def read_digests(path: Path) -> dict[str, str]:
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
    lines = [f"{key}: {value}" for key, value in info] + [f"Payload-Oxum: {total}.{len(files)}"]
    write_text(bag / "bag-info.txt", "\n".join(lines) + "\n")
    for name in ALGORITHMS:
        write_text(bag / f"manifest-{name}.txt", "".join(f"{digests[p][name]}  {encode_path(p)}\n" for p in files))
    tags = ["bag-info.txt", "bagit.txt", *(f"manifest-{name}.txt" for name in ALGORITHMS)]
    tag_digests = {tag: read_digests(bag / tag) for tag in tags}
    for name in ALGORITHMS:
        write_text(bag / f"tagmanifest-{name}.txt", "".join(f"{tag_digests[t][name]}  {t}\n" for t in tags))
    return len(files), total


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def verify_bundle(bundle: Path | str) -> VerifyReport:
    """Recompute every checksum of the bag; list each changed, missing or extra file."""
    bag = Path(bundle)
    if not bag.is_dir():
        raise InputMissingError(bag, "no such bundle directory")
    if not (bag / "bagit.txt").is_file():
        raise BadInputError(bag, "not a BagIt bag (no bagit.txt)")
    if (bag / "fetch.txt").exists():
        raise BadInputError(bag, "fetch.txt is not allowed: an audit bundle must be self-contained", "fetch.txt")
    problems: list[str] = []
    payload = set(list_payload(bag))
    manifests = {name: read_manifest(bag, f"manifest-{name}.txt", problems) for name in ALGORITHMS}
    tagmanifests = {name: read_manifest(bag, f"tagmanifest-{name}.txt", problems) for name in ALGORITHMS}
    listed = set().union(*(set(m) for m in manifests.values()))
    problems += check_entries(bag, manifests, payload)
    problems += check_entries(bag, tagmanifests, None)
    problems += [f"extra: {path} (in no manifest)" for path in sorted(payload - listed)]
    tags = {p.name for p in bag.iterdir() if p.is_file()} - {f"tagmanifest-{n}.txt" for n in ALGORITHMS}
    problems += [f"extra: {t} (in no tag manifest)" for t in sorted(tags - set().union(*map(set, tagmanifests.values())))]
    problems += [f"extra: {p.name}/ (a directory outside {PAYLOAD}/)" for p in sorted(bag.iterdir())
                 if p.is_dir() and p.name != PAYLOAD]
    return VerifyReport(str(bag), len(payload), tuple(dict.fromkeys(problems)))


def read_manifest(bag: Path, name: str, problems: list[str]) -> dict[str, str]:
    """path -> digest; a missing manifest is a problem, an unsafe path an error."""
    path = bag / name
    if not path.is_file():
        problems.append(f"missing: {name}")
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        digest, _, rel = line.partition(" ")
        rel = decode_path(rel.lstrip(" *"))
        parts = rel.split("/")
        if not rel or rel.startswith("/") or ".." in parts or "\\" in rel:
            raise BadInputError(bag, f"unsafe path in {name} line {number}", rel)
        entries[rel] = digest.lower()
    return entries


def check_entries(bag: Path, manifests: dict[str, dict[str, str]], payload: set[str] | None) -> list[str]:
    problems = []
    paths = sorted(set().union(*(set(m) for m in manifests.values())))
    for rel in progress.counted(paths, "checking " + ("payload" if payload is not None else "tag files"), len(paths), "file"):
        target = bag / rel
        if not target.is_file() or target.is_symlink():
            problems.append(f"missing: {rel}")
            continue
        digests = read_digests(target)
        kind = "manifest" if payload is not None else "tagmanifest"
        wrong = []
        for name, manifest in manifests.items():
            if rel not in manifest:
                problems.append(f"missing from {kind}-{name}: {rel}")
            elif manifest[rel] != digests[name]:
                wrong.append(name)
        agreeing = [name for name, manifest in manifests.items() if rel in manifest and name not in wrong]
        if wrong and agreeing:  # the file matches the other manifest: the manifest line is what changed
            problems += [f"changed: {kind}-{name}.txt (its {name} of {rel} does not match the file, which "
                         f"{kind}-{agreeing[0]}.txt confirms)" for name in wrong]
        else:
            problems += [f"changed: {rel} ({name} mismatch)" for name in wrong]
    return problems
