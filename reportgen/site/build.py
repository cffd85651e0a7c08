"""``reportgen build DATA_STORE -o SITE``: the pipeline, as a list of stage calls.

scan -> plan (compare with the previous manifest) -> staging (hard links of
what is kept) -> job pages in a process pool (each worker reads, renders and
writes its own page and returns a small summary) -> diff pages, catalogs,
home page, report, manifest -> atomic swap.  A no-change rebuild stops after
the plan: it opens no HDF5 file and renders nothing.  The plan also counts as
changed every owner (job, catalog, home page and assets) whose files in the
site are no longer what the last build wrote (``manifest.check_site``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from converters import interrupts
from converters.workdirs import check_writable_dir, sibling
from reportgen import __version__
from reportgen.errors import ToolError, WriteError
from reportgen.outdir import check_inner_writable, check_output_path
from reportgen.progress import progress
from reportgen.readers.sandbox import crashed_job, describe_exit, run_alone
from reportgen.records import STATUSES, Commit, JobRef, Problem, ProjectScan, StoreScan
from reportgen.site import write as out
from reportgen.site.contexts import (
    CatalogRow,
    LatestRun,
    ProjectSummary,
    SearchProject,
    build_search_context,
    build_index_context,
    build_project_context,
    build_job_list_context,
    build_status_counts,
)
from reportgen.site.jobpage import (
    DiffTask,
    JobResult,
    JobTask,
    SITE_LIMITS,
    build_job_page,
    close_commit_cache,
    init_worker,
    write_diff_chunk,
    write_job_page,
)
from reportgen.site.manifest import (
    FORMAT,
    MANIFEST_NAME,
    JobEntry,
    Manifest,
    SiteCheck,
    Stat,
    Written,
    build_job_fingerprint,
    build_theme_hash,
    build_written,
    check_site,
    decode_name,
    encode_name,
    load_manifest,
    owners_written,
    problem_fields,
    problem_from_fields,
    project_written,
    read_state,
    render_manifest,
    render_state,
    stat_files,
)
from reportgen.site.compare import render_compare_page
from reportgen.site.config import NO_CONFIG, BuildSettings, Column, SiteConfig, build_config_problems, read_site_config, render_columns_key
from reportgen.site.config import View, render_views_key  # views: figure views (x axes, log scales)
from reportgen.site.overrides import build_overrides_hash, read_overrides
from reportgen.site.paths import JOB_LIST_NAME, build_slugs, diff_page_name, workflow_diff_page_name
from reportgen.site import publish
from reportgen.site.render import render_catalog_js, render_index, render_page, render_project, render_search
from reportgen.site.render import render_job_list
from reportgen.site.render import active_overrides, rendering_with
from reportgen.site.search import MAX_LINES, SEARCH_DATA_NAME, build_search_src, render_search_js
from reportgen.site.feeds import ProjectJobs, build_latest_runs, write_project_feed, write_site_feed
from site_templates import TEMPLATE_DIR

REPORT_NAME = "build-report.json"
# the layout of build-report.json (docs/cli.md, "JSON output"), named as every JSON document of
# reportgen is; it was the integer 1 before the layout was documented.  The manifest has its own.
REPORT_FORMAT = "reportgen-build-report/1"
PROJECT_FILES = ("index.html", "catalog-data.js", "compare.html", "trends.html", "search-data.js", "feed.xml",
                 JOB_LIST_NAME)  # with the catalog
STATIC_FILES = ("site.css", "theme.js", "render.js", "catalog.js", "keys.js", "compare.js", "logs.js", "trends.js", "nodetable.js",
                "search.js", "times.js")


@dataclass(frozen=True)
class BuildOptions:
    workers: int = 0  # 0: one per core
    force: bool = False  # replace an output that is not a reportgen site
    full: bool = False  # ignore the previous manifest
    show_progress: bool = True
    config_file: Path | None = None  # --config: extra catalog columns (site/config.py)
    precompress: tuple[str, ...] = ()  # --precompress: "gz", "zst" siblings of text files (site/publish.py)
    base_url: str = ""  # --base-url: the published site's absolute URL, ending in "/" (site/publish.py)
    templates: Path | None = None  # --templates: a folder of template overrides (site/overrides.py)
    offline: bool = False  # an audit bundle's site, opened from disk: a config's precompress and base_url are not applied


@dataclass(frozen=True)
class BuildReport:
    site: str
    jobs: int
    built: int
    kept: int
    removed: int
    status_counts: dict[str, int]
    problems: tuple[Problem, ...]
    timings: dict[str, float]
    up_to_date: bool = False
    repaired: int = 0  # owners rebuilt only because their files in the site were not as written

    def summary(self) -> str:
        errors = sum(p.severity == "error" for p in self.problems)
        state = "up to date" if self.up_to_date else f"{self.built} built, {self.kept} kept, {self.removed} removed"
        if self.repaired:
            state += f", {self.repaired} repaired"
        return (f"site {self.site}: {plural(self.jobs, 'job')} ({state}), {plural(errors, 'error')}, "
                f"{plural(len(self.problems) - errors, 'warning')} in {self.timings.get('total', 0):.1f} s")


def plural(count: int, noun: str) -> str:
    """``1 error``, ``0 errors``, ``2 errors``: the summary and the --fail-on lines."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass(frozen=True)
class Plan:
    """What this build does, decided from the scan and the previous manifest only."""

    project_slugs: dict[str, str]
    job_slugs: dict[str, dict[str, str]]
    fingerprints: dict[str, dict[str, str]]
    todo: tuple[JobRef, ...]
    kept: dict[str, dict[str, JobEntry]]
    removed: tuple[tuple[str, str], ...]  # (project, job id)
    dirty_projects: frozenset[str]
    removed_projects: tuple[str, ...]
    jobs_of_removed_projects: int = 0  # their pages go with the project's folder, not one by one
    home: bool = False  # the home page or an asset is not as written: write the assets again
    repaired: int = 0  # jobs, catalogs and home rebuilt only because their files were not as written
    columns: dict[str, tuple[Column, ...]] = field(default_factory=dict)  # --config: by project folder
    views: dict[str, tuple[View, ...]] = field(default_factory=dict)  # views: --config's, by project folder
    # projects whose repositories changed (a push, a git gc) or whose fingerprint was not kept: their
    # kept jobs' commits were resolved again; the new fingerprints go to SITE.lock, not into the site
    repos_moved: frozenset[str] = frozenset()

    @property
    def unchanged(self) -> bool:
        return (not self.todo and not self.removed and not self.dirty_projects and not self.removed_projects
                and not self.home)


@dataclass(frozen=True)
class Built:
    """What ``build_into`` left in staging: the report, the manifest and the files it wrote."""

    report: BuildReport
    manifest: Manifest
    digest: str  # sha256 of the manifest's bytes
    rewritten: frozenset[str]  # manifest text of every file written into staging


@dataclass
class Timer:
    marks: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)
    last: float = 0.0

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.marks[name] = round(now - (self.last or self.start), 3)
        self.last = now

    def total(self) -> dict[str, float]:
        return {**self.marks, "total": round(time.perf_counter() - self.start, 3)}


# ----------------------------------------------------------------- the pipeline
def build_site(data_store: Path, site: Path, options: BuildOptions = BuildOptions()) -> BuildReport:
    """Build (or incrementally update) the static site of ``data_store`` in ``site``."""
    config = read_site_config(options.config_file) if options.config_file is not None else NO_CONFIG
    options = with_settings(options, config.build)
    overrides = read_overrides(options.templates)  # read and checked whole before any work
    with rendering_with(overrides):  # compiled here, before any page worker forks (they inherit it)
        return _build_site(data_store, site, options, config)


def with_settings(options: BuildOptions, settings: BuildSettings) -> BuildOptions:
    """The options with the config's ``[build]`` keys where the command line left them unset (its
    value wins: a one-off build can try another address or theme without editing the file)."""
    if options.offline:  # siblings and absolute addresses serve a web server, not a bag on a USB stick
        settings = replace(settings, precompress=None, base_url=None)
    return replace(
        options,
        templates=options.templates if options.templates is not None else settings.templates,
        precompress=options.precompress or settings.precompress or (),
        base_url=options.base_url or settings.base_url or "",
    )


def _build_site(data_store: Path, site: Path, options: BuildOptions, config: SiteConfig) -> BuildReport:
    from reportgen.readers.datastore import check_data_store_dir, scan_data_store

    check_data_store_dir(data_store)
    check_output_path(site)
    if site.is_dir() and not site.is_symlink():
        check_writable_dir(site)  # an incremental build writes inside it, a full one renames it
    out.check_overlap(data_store, site)
    timer = Timer()
    site.parent.mkdir(parents=True, exist_ok=True)
    with out.hold_lock(site, marker=MANIFEST_NAME) as lock:
        out.remove_stale_staging(site)
        previous, digest = (None, "") if options.full else load_manifest(site)
        vouched, saved = read_state(lock.state, digest) if previous is not None else (True, None)
        if not vouched:
            previous = None  # edited since the last build: its records are not ours, build it all
        out.check_existing(site, is_site=(site / MANIFEST_NAME).is_file(), force=options.force)
        scan = scan_data_store(data_store)
        # a project the config names that this store lacks is a warning of the build, kept with the
        # store's own problems: in the report, the summary and the manifest's no-change comparison
        scan = replace(scan, problems=scan.problems + build_config_problems(config, [p.name for p in scan.projects]))
        timer.mark("scan")
        theme = build_site_theme(options)
        if previous is not None and previous.theme != theme:
            previous = None
        check = check_site(site, previous, saved.stats if saved else None) if previous is not None else None
        if check is not None and check.unsafe:
            previous, check = None, None
        timer.mark("check")
        plan = build_plan(scan, previous, theme, check, config, saved.repos if saved else None)
        repos = repos_state(scan)
        if previous is not None and plan.unchanged and _store_problems(scan) == previous.store_problems:
            if check is not None and (check.restated or saved is None or saved.repos != repos):
                lock.save(render_state(digest, check.stats, repos))  # touched but intact, or a git gc
            return write_up_to_date(site, scan, previous, plan, timer)
        check_site_writable(site, plan, previous)  # before any page is made: 73, not a failed publish
        staging = out.staging_path(site)
        try:  # entered before the folder exists: a signal right after mkdir still removes it
            out.create_staging(site)
            built = build_into(staging, site, data_store, scan, plan, previous, theme, options, timer)
            if previous is None:
                out.swap_in(staging, site)  # includes the flush to disk: it shows in the summary's total
            else:
                apply_changes(staging, site, plan, previous, built.rewritten)
            lock.save(render_state(built.digest, build_stats(site, built, check), repos))
            report = replace(built.report, timings=timer.total())
        finally:
            out.discard_staging(staging)
            if previous is not None:  # apply_changes's trash when it stopped midway (a full build's is replace_dir's)
                shutil.rmtree(sibling(site, "old"), ignore_errors=True)
    return report


def build_into(staging: Path, site: Path, data_store: Path, scan: StoreScan, plan: Plan,
               previous: Manifest | None, theme: str, options: BuildOptions, timer: Timer) -> Built:
    """Every stage that writes into the staging folder (only what changed, when incremental)."""
    out.forget_digests()
    if previous is None or plan.home:
        write_assets(staging)
    timer.mark("prepare")
    results = run_job_tasks(build_tasks(data_store, staging, scan, plan), options)
    for result in results:
        out.add_digests(result.digests)
    timer.mark("jobs")
    manifest = build_manifest(scan, plan, results, theme)
    write_diff_pages(staging, data_store, scan, manifest, previous, plan, options)
    write_project_pages(staging, scan, manifest, plan, options.base_url)
    write_index_page(staging, scan, manifest)
    write_site_feed(staging, _feed_projects(scan, manifest), options.base_url)
    write_search_page(staging, site, scan, manifest)
    if options.base_url:
        publish.write_sitemap(staging, manifest, options.base_url)
    publish.write_precompressed(staging, options.precompress, options.workers)  # siblings of all staging holds: last
    timer.mark("pages")
    rewritten = list_staging(staging)
    manifest = record_written(manifest, previous, plan, staging, site, rewritten)
    timer.mark("hashes")
    report = build_report(site, scan, manifest, plan, timer)
    out.write_file(staging / REPORT_NAME, render_report(report))
    data = render_manifest(manifest)
    out.write_file(staging / MANIFEST_NAME, data)
    return Built(report, manifest, hashlib.sha256(data).hexdigest(), rewritten)


def build_site_theme(options: BuildOptions) -> str:
    """What every page and file of the site depends on beyond its own inputs: the theme (code,
    templates, versions), the template overrides and the publishing options.  A change of any
    rebuilds the whole site, which is also what removes the siblings of an option turned off."""
    parts = (build_theme_hash(), build_overrides_hash(options.templates), ",".join(options.precompress), options.base_url)
    if parts[1:] == ("", "", ""):
        return parts[0]  # without them, the theme hash of the builds before these options
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def check_site_writable(site: Path, plan: Plan, previous: Manifest | None) -> None:
    """Refuse (73), naming it, a folder of the live site this build must change but cannot
    (``chattr +i``, another user's): publishing failed there after all the work, exit 66.

    A full build swaps the whole tree and deletes the old one: every folder of it.  An incremental
    one renames files in the folders of the projects it changes (and ``assets/`` with the home
    page), and moves aside, then deletes, the folders of the jobs it rebuilds or removes and of
    the projects that are gone.  The site folder itself was checked with its parent."""
    if previous is None:
        check_inner_writable(site, subtree=True)
        return
    old_slugs = {name: value["slug"] for name, value in previous.projects.items()}
    for project in plan.removed_projects:
        check_inner_writable(site / old_slugs[project], subtree=True)
    for project in sorted(plan.dirty_projects):
        check_inner_writable(site / plan.project_slugs[project])
    jobs = [(ref.project, ref.job_id) for ref in plan.todo] + list(plan.removed)
    for project, job_id in jobs:
        entry = previous.jobs.get(project, {}).get(job_id)
        if entry is not None and project in old_slugs:
            check_inner_writable(site / old_slugs[project] / entry.slug, subtree=True)
        if project in plan.project_slugs and job_id in plan.job_slugs.get(project, {}):
            check_inner_writable(site / plan.project_slugs[project] / plan.job_slugs[project][job_id], subtree=True)
    if plan.home:
        check_inner_writable(site / "assets")


# ----------------------------------------------------------------- plan
def _store_problems(scan: StoreScan) -> tuple[tuple[str, ...], ...]:
    return tuple(problem_fields(p) for p in scan.problems)


def build_plan(scan: StoreScan, previous: Manifest | None, theme: str, check: SiteCheck | None = None,
               config: SiteConfig = NO_CONFIG, known_repos: dict[str, str] | None = None) -> Plan:
    """Compare file stats with the manifest, and the site with what the manifest recorded:
    which jobs to build, keep and remove, which catalogs to write again.  A project's configured
    columns count as an input of each of its jobs (their rows hold the cells) and of its catalog.
    ``known_repos``: the repository fingerprints SITE.lock kept (``repos_state``), None when lost."""
    project_slugs = build_slugs([p.folder for p in scan.projects])
    old_jobs = previous.jobs if previous else {}
    old_projects = previous.projects if previous else {}
    damaged = check or SiteCheck(frozenset(), frozenset(), False, "", {}, False)
    job_slugs, fingerprints, kept, columns = {}, {}, {}, {}
    views: dict[str, tuple[View, ...]] = {}  # views
    todo, removed, dirty, repaired, repos_moved = [], [], set(), set(), set()
    commits = CommitKeys(Path(scan.root))  # opens git only for a project whose repositories changed
    for project in scan.projects:
        slugs = build_slugs([ref.job_id for ref in project.jobs])
        job_slugs[project.folder], fingerprints[project.folder], kept[project.folder] = slugs, {}, {}
        columns[project.folder] = config.columns_for(project.name)
        columns_key = render_columns_key(columns[project.folder])
        views[project.folder] = config.views_for(project.name)  # views: part of each job's fingerprint
        before = old_jobs.get(project.folder, {})
        old = old_projects.get(project.folder, {})
        if (old.get("slug") != project_slugs[project.folder] or old.get("problems") != _fields(project.problems)
                or old.get("columns", []) != columns_key):
            dirty.add(project.folder)
        if known_repos is None or known_repos.get(encode_name(project.folder)) != project.repo_fingerprint:
            repos_moved.add(project.folder)  # or not known (SITE.lock lost): ask git, one line per commit
        for ref in project.jobs:
            fp = build_job_fingerprint(ref, theme, slugs[ref.job_id], columns_key,
                                       render_views_key(views[project.folder]))  # views
            fingerprints[project.folder][ref.job_id] = fp
            entry = before.get(ref.job_id)
            # a job without a search record (a manifest of a build before search.py) is built again
            same = entry is not None and entry.fingerprint == fp and entry.search is not None
            if same and project.folder in repos_moved:  # a push: only the jobs whose own commits now resolve otherwise
                same = commits.key(project, entry.params_sha, entry.workflow_sha) == entry.commits
            if same and (project.folder, ref.job_id) not in damaged.jobs:
                kept[project.folder][ref.job_id] = entry
            else:
                if same:
                    repaired.add((project.folder, ref.job_id))
                todo.append(ref)
                dirty.add(project.folder)
        for job_id in sorted(set(before) - set(slugs)):
            removed.append((project.folder, job_id))
            dirty.add(project.folder)
        if project.folder in damaged.projects and project.folder not in dirty:
            repaired.add((project.folder,))
            dirty.add(project.folder)
    commits.close()  # before the page workers fork: they must not inherit its git pipes
    gone = tuple(sorted(set(old_projects) - set(project_slugs)))
    gone_jobs = sum(len(old_jobs.get(name, {})) for name in gone)
    return Plan(project_slugs, job_slugs, fingerprints, tuple(todo), kept, tuple(removed), frozenset(dirty), gone,
                gone_jobs, damaged.home, len(repaired) + damaged.home, columns, views,  # views
                frozenset(repos_moved))


def repos_state(scan: StoreScan) -> dict[str, str]:
    """Each project's repository fingerprint, for SITE.lock (folders written as the manifest writes them)."""
    return {encode_name(p.folder): p.repo_fingerprint for p in scan.projects}


def _fields(problems: tuple[Problem, ...]) -> list[list[str]]:
    return [list(problem_fields(p)) for p in problems]


class CommitKeys:
    """What a job's page takes from its project's repositories: the sha, state and reason its params
    and workflow commits resolve to (``CommitCache.resolve``: one ``--batch-check`` line each, no
    blob read), hashed.  The manifest keeps it per job (``JobEntry.commits``); a push rebuilds only
    the jobs whose key it changes (a commit that arrived, a repository that became unreadable).

    A commit's message and files are not looked at: its sha names them.  The key is made from the
    sha the entry records (the commit an annotated tag points to, for one), here in the building
    process for built and kept jobs alike, so a kept job's key is the one a fresh build writes.
    Repositories are opened on the first question; ``close`` before forking the page workers."""

    RACED = "changed-during-build"  # never a key: the job is built again at the next push

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: Any = None
        self._keys: dict[tuple[str, str, str], str] = {}
        self._commits: dict[tuple[str, str, str], Commit] = {}  # the jobs of a project share a few commits

    def key(self, project: ProjectScan, params_sha: str, workflow_sha: str) -> str:
        found = self._keys.get((project.folder, params_sha, workflow_sha))
        if found is None:
            parts = [self.resolve(project, "params", params_sha), self.resolve(project, "workflow", workflow_sha)]
            found = hashlib.sha256(orjson.dumps([[c.repo, c.sha, c.state, c.reason] for c in parts])).hexdigest()[:32]
            self._keys[(project.folder, params_sha, workflow_sha)] = found
        return found

    def resolve(self, project: ProjectScan, which: str, sha: str) -> Commit:
        if (project.folder, which, sha) not in self._commits:
            if self._cache is None:
                from reportgen.readers.git import CommitCache

                self._cache = CommitCache(SITE_LIMITS)
            rel = project.params_repo if which == "params" else project.workflow_repo
            repo = self.root / rel if rel else None
            self._commits[(project.folder, which, sha)] = self._cache.resolve(repo, sha, which)  # type: ignore[arg-type]
        return self._commits[(project.folder, which, sha)]

    def built_key(self, project: ProjectScan, result: JobResult) -> str:
        """The key of a job just built; ``RACED`` when a commit resolves otherwise now than when its
        worker read it (a push during the build): the page may be of the old state."""
        key = self.key(project, result.params_sha, result.workflow_sha)
        for which, sha, present in (("params", result.params_sha, result.params_present),
                                     ("workflow", result.workflow_sha, result.workflow_present)):
            if (self.resolve(project, which, sha).state == "present") != present:
                return self.RACED
        return key

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        self._cache = None


# ----------------------------------------------------------------- incremental publishing
def apply_changes(staging: Path, site: Path, plan: Plan, previous: Manifest, rewritten: frozenset[str]) -> None:
    """Move what an incremental build rebuilt from staging into the live site.

    Each job's page and folder are replaced by renames, the catalogs and the home
    page after them, the manifest last; signals wait until the moves are done. A
    crash in between leaves jobs whose files are newer than the manifest says, and
    the next build simply rebuilds them.  ``rewritten``: what this build wrote (``Built.rewritten``).
    A file written again with the bytes the live one has is published as that live file (a hard
    link: ``out.keep_unchanged``), so its mtime stays and rsync's quick check skips it.
    """
    out.keep_unchanged(staging, site, sorted(decode_name(name) for name in rewritten))
    os.sync()  # the new files were written without fsync; make them durable before they show
    interrupts.check()
    trash = sibling(site, "old")
    trash.mkdir(exist_ok=True)
    with out.blocked_signals():
        for project in plan.removed_projects:
            out.move_aside(site / previous.projects[project]["slug"], trash)
        for project, job_id in plan.removed:
            entry = previous.jobs[project][job_id]
            _move_job(site, None, previous.projects[project]["slug"], entry.slug, trash, _side_files(entry))
        for ref in plan.todo:
            entry = previous.jobs.get(ref.project, {}).get(ref.job_id)
            _move_job(site, staging, plan.project_slugs[ref.project], plan.job_slugs[ref.project][ref.job_id], trash,
                      _side_files(entry) if entry is not None else ())
        # a .gz/.zst sibling this build did not write again beside a file it did (now too small for one)
        for name in publish.stale_files((n for _, w in owners_written(previous) for n in w.files), rewritten):
            out.move_aside(site / decode_name(name), trash / Path(decode_name(name)).parent)
        out.move_files(staging, site, last=MANIFEST_NAME)
        out.fsync_dir(site)
    shutil.rmtree(trash, ignore_errors=True)


def _side_files(entry: JobEntry) -> tuple[str, ...]:
    """The files ``<job>~...`` beside the job page that the manifest records for a job (its node
    pages, ``paths.node_page_name``, and its notebook): names in its project folder.  Only names of
    this job's own form: a manifest is data anyone could edit."""
    names = entry.files.files if isinstance(entry.files, Written) else ()
    files = (decode_name(name).split("/", 1)[1] for name in names if name.count("/") == 1)
    return tuple(name for name in files if name.startswith(f"{entry.slug}~") and "/" not in name)


def _move_job(site: Path, staging: Path | None, project_slug: str, job_slug: str, trash: Path,
              old_side_files: tuple[str, ...] = ()) -> None:
    """Replace (or, without staging, remove) one job's pages and folder in the live site.

    The node pages of a split job are many and named after its nodes: the old ones and the other
    files beside the page (as the previous manifest recorded them) go to the trash here, the new
    ones come with the other files of staging (``out.move_files``).  A project folder that is a
    symlink was not made by a build: renaming through it would move files wherever it points (the
    data_store, say).  The link itself goes to the trash."""
    if (site / project_slug).is_symlink():
        out.move_aside(site / project_slug, trash)
    for name in old_side_files:
        out.move_aside(site / project_slug / name, trash / project_slug)
    pages = (f"{job_slug}.html", diff_page_name(job_slug), workflow_diff_page_name(job_slug))
    siblings = tuple(f"{page}.{fmt}" for page in pages for fmt in publish.PRECOMPRESS_FORMATS)
    for name in (*pages, *siblings, job_slug):  # the pages' .gz/.zst siblings (--precompress) with them
        out.move_aside(site / project_slug / name, trash / project_slug)
        if staging is not None and (staging / project_slug / name).exists():
            (site / project_slug).mkdir(exist_ok=True)
            os.rename(staging / project_slug / name, site / project_slug / name)


def write_assets(staging: Path) -> None:
    """plotly.min.js once per site, from the installed plotly package; the theme's static files."""
    import plotly

    assets = staging / "assets"
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not (assets / "plotly.min.js").is_file():
        out.copy_file(plotly_js, assets / "plotly.min.js", limit=64 * 1024**2)
    for name in STATIC_FILES:
        out.write_file(assets / name, (TEMPLATE_DIR / "static" / name).read_bytes())
    for item in active_overrides().static:  # build --templates: its static/ after ours (a same name replaces ours)
        out.write_file(assets / item.name, item.data)


# ----------------------------------------------------------------- job pages
def build_tasks(data_store: Path, staging: Path, scan: StoreScan, plan: Plan) -> list[JobTask]:
    repos = {p.folder: (p.workflow_repo, p.params_repo) for p in scan.projects}
    return [
        JobTask(
            root=str(data_store), staging=str(staging), ref=ref,
            project_slug=plan.project_slugs[ref.project], job_slug=plan.job_slugs[ref.project][ref.job_id],
            workflow_repo=repos[ref.project][0], params_repo=repos[ref.project][1],
            columns=plan.columns.get(ref.project, ()),
            views=plan.views.get(ref.project, ()),  # views
        )
        for ref in plan.todo
    ]


SMALL_BUILD = 4  # fewer job pages than this are not worth a second worker (its fork, its git pipes)


def run_job_tasks(tasks: list[JobTask], options: BuildOptions) -> list[JobResult]:
    """Build every job page in a pool of sandboxed worker processes, however few jobs there are.

    Even one job with ``--workers 1`` gets a worker: the memory cap, the alarm and the
    crash isolation are what make reading hostile HDF5 safe, and a pool of one costs
    a fork (tens of ms).  A worker that dies (libhdf5 crash, memory cap, timeout) breaks
    the pool; the jobs not finished then run one by one, each in its own process.  A
    job that kills its process, or exhausts it (``MemoryError``, ``RecursionError``),
    gets a page that says so.
    """
    if not tasks:
        return []
    workers = 1 if len(tasks) < SMALL_BUILD else min(options.workers or os.cpu_count() or 1, len(tasks))
    show = progress if options.show_progress else _no_progress
    load_page_code()
    results, leftover = run_pool(tasks, workers, show)
    results.extend(build_page_alone(t) for t in leftover)
    return [write_unbuilt_page(r) if isinstance(r, Unbuilt) else r for r in results]


def load_page_code() -> None:
    """Import h5py and compile the templates once, here: the forked workers inherit them.

    Each worker did it for itself (about 100 ms of a busy core per worker), which
    was most of what a pool cost a small build over building in this process.
    """
    import reportgen.readers.hdf5  # noqa: F401  (h5py: nothing is read here)
    from reportgen.site.render import build_environment

    environment = build_environment()
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)


def worker_pool(workers: int) -> Any:
    """The sandboxed pool of the job and diff pages: forked (the templates are already loaded)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=init_worker)


def run_pool(tasks: list[JobTask], workers: int, show: Any) -> tuple[list[JobResult | Unbuilt], list[JobTask]]:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    size = max(1, min(16, len(tasks) // (workers * 8)))
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    results: list[JobResult | Unbuilt] = []
    pool = worker_pool(workers)
    try:  # the workers start at the first submit: a signal during the submits still shuts them down
        futures = {pool.submit(build_page_chunk, chunk): chunk for chunk in chunks}
        for result in show(_finished_jobs(as_completed(futures)), len(tasks), "job pages"):  # counted in jobs
            results.append(result)
    except BrokenProcessPool:
        done = {_job_key(r) for r in results}
        leftover = [t for chunk in chunks for t in chunk if (t.ref.project, t.ref.job_id) not in done]
        return results, leftover
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results, []


def _finished_jobs(done: Any) -> Iterator[JobResult | Unbuilt]:
    """Each job's result as its chunk finishes: the bar counts jobs, not chunks of up to 16."""
    for future in done:
        interrupts.check()  # a signal dropped while the pool forked: stop now, not at the end
        yield from future.result()


# What exhausts a worker rather than being a bug of ours: hostile data (a 1 GB set under
# the dataset budget, deep nesting) meets the worker's memory cap or Python's stack limit.
EXHAUSTED = {MemoryError: "ran out of memory", RecursionError: "failed: data nested too deeply"}


@dataclass(frozen=True)
class Unbuilt:
    """A job whose worker was exhausted or died: its page will say why instead."""

    task: JobTask
    reason: str


def _job_key(result: JobResult | Unbuilt) -> tuple[str, str]:
    ref = result.task.ref if isinstance(result, Unbuilt) else result
    return (ref.project, ref.job_id)


def build_page_chunk(tasks: list[JobTask]) -> list[JobResult | Unbuilt]:
    """A chunk of job pages, in a worker; a job that exhausts the worker becomes ``Unbuilt``.

    Any other exception is a bug and travels to the parent (exit 70).  Nothing is done
    inside the ``except``: its traceback still holds the frames and their big arrays.
    """
    results: list[JobResult | Unbuilt] = []
    for task in tasks:
        reason = ""
        try:
            result = build_job_page(task)
            results.append(replace(result, digests=out.take_digests()))  # the files' hashes, made here
        except tuple(EXHAUSTED) as exc:  # numpy's is a subclass (_ArrayMemoryError)
            kind = next(k for k in EXHAUSTED if isinstance(exc, k))
            reason = f"job page {EXHAUSTED[kind]} ({kind.__name__})"
        if reason:
            close_commit_cache()  # a git read cut short would leave its pipe mid-answer
            results.append(Unbuilt(task, reason))
    return results


def build_page_alone(task: JobTask) -> JobResult | Unbuilt:
    """``build_page_chunk`` of one job in a fresh sandboxed process; if it dies, ``Unbuilt``."""
    result, exitcode = run_alone(_page_alone, (task,), SITE_LIMITS.worker_timeout_s)
    if isinstance(result, ToolError):  # a template override that failed (78), as from the pool
        raise result
    if isinstance(result, _Bug):
        raise RuntimeError(f"job page worker failed ({result.text})")
    return result if result is not None else Unbuilt(task, describe_exit(exitcode))


@dataclass(frozen=True)
class _Bug:
    text: str  # "<class>: <message>": our error classes do not pickle


def _page_alone(conn: Any, task: JobTask) -> None:
    init_worker()
    try:
        conn.send(build_page_chunk([task])[0])
    except ToolError as exc:  # pickles whole (ToolError.__reduce__); the parent raises it
        conn.send(exc)
    except Exception as exc:  # a bug: the parent raises it (a traceback here would be a second error line)
        conn.send(_Bug(f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        conn.close()


def write_unbuilt_page(unbuilt: Unbuilt) -> JobResult:
    """The page of a job that could not be built: its logs and commits, the reason as a problem.

    Whatever the worker wrote of the job before it stopped is removed first, so the
    page's folder holds the same files however far the worker got.
    """
    task = unbuilt.task
    project = Path(task.staging) / task.project_slug
    shutil.rmtree(project / task.job_slug, ignore_errors=True)
    (project / f"{task.job_slug}.html").unlink(missing_ok=True)
    for node_page in project.glob(f"{task.job_slug}~node-*"):  # a slug has no glob characters
        node_page.unlink()
    return write_job_page(task, crashed_job(Path(task.root), task.ref, SITE_LIMITS, unbuilt.reason))


def _no_progress(items: Any, total: int | None, desc: str) -> Any:
    return items


# ----------------------------------------------------------------- manifest and project pages
def build_manifest(scan: StoreScan, plan: Plan, results: list[JobResult], theme: str) -> Manifest:
    for result in results:
        result.raise_error()
    jobs: dict[str, dict[str, JobEntry]] = {name: dict(entries) for name, entries in plan.kept.items()}
    projects_by_folder = {p.folder: p for p in scan.projects}
    commits = CommitKeys(Path(scan.root))
    try:  # the kept entries keep theirs: the plan checked it wherever a repository changed
        for result in results:
            fp = plan.fingerprints[result.project][result.job_id]
            key = commits.built_key(projects_by_folder[result.project], result)
            jobs[result.project][result.job_id] = replace(result.entry(fp), commits=key)
    finally:
        commits.close()  # before the diff pages' workers fork
    jobs = {name: dict(sorted(entries.items())) for name, entries in sorted(jobs.items())}
    projects = {p.folder: _project_record(p, plan) for p in scan.projects}
    return Manifest(FORMAT, __version__, theme, projects, jobs, _store_problems(scan))


def _project_record(project: ProjectScan, plan: Plan) -> dict[str, Any]:
    """A project in the manifest; its configured columns only when it has some (a build without a
    config writes the manifest it always wrote)."""
    record: dict[str, Any] = {"slug": plan.project_slugs[project.folder], "problems": _fields(project.problems)}
    columns = plan.columns.get(project.folder, ())
    if columns:
        record["columns"] = render_columns_key(columns)
    return record


def _rows(manifest: Manifest, project: str) -> list[CatalogRow]:
    return [CatalogRow(*entry.row) for entry in manifest.jobs.get(project, {}).values()]


def write_project_pages(staging: Path, scan: StoreScan, manifest: Manifest, plan: Plan,
                        base_url: str = "") -> None:
    for project in scan.projects:
        if project.folder not in plan.dirty_projects:
            continue
        folder = staging / plan.project_slugs[project.folder]
        rows = _rows(manifest, project.folder)
        catalog_js = render_catalog_js(project.name, rows, plan.columns.get(project.folder, ()))  # loaded by its hash
        out.write_file(folder / "catalog-data.js", catalog_js)
        page = build_project_context(project.name, rows, project.problems, catalog_js)
        out.write_file(folder / "index.html", render_project(page))
        # every job as plain HTML, latest first: the catalog's <noscript> links to it (no script needed)
        out.write_file(folder / JOB_LIST_NAME, render_job_list(build_job_list_context(project.name, rows)))
        out.write_file(folder / "compare.html", render_compare_page(project.name))  # compare runs (compare.py)
        # trends across jobs: drawn in the browser from catalog-data.js (its versioned href, as the
        # catalog's) and the jobs' ~compare.js files, so no job does any work for it
        out.write_file(folder / "trends.html", render_page("trends.html", replace(page, title=f"{project.name}: trends")))
        # search.html's data of the project (search.py), from the records the manifest keeps
        out.write_file(folder / SEARCH_DATA_NAME, render_search_js(project.name, plan.project_slugs[project.folder],
                                                                   manifest.jobs.get(project.folder, {})))
        write_project_feed(folder, _feed_project(project, manifest), base_url)  # from the manifest's entries


def _feed_project(project: ProjectScan, manifest: Manifest) -> ProjectJobs:
    """A project as its feed sees it: names and the manifest's entries (feeds.py)."""
    return ProjectJobs(project.name, project.folder, manifest.projects[project.folder]["slug"],
                       manifest.jobs.get(project.folder, {}))


def _feed_projects(scan: StoreScan, manifest: Manifest) -> list[ProjectJobs]:
    return [_feed_project(project, manifest) for project in scan.projects]


def write_search_page(staging: Path, site: Path, scan: StoreScan, manifest: Manifest) -> None:
    """``search.html``, with the home page: every project in home page order, each with the versioned
    href of its data file, hashed where the file now is: in staging when this build wrote it, else in
    the site, where a kept project's file is as the last build wrote it (``check_site`` makes a
    project whose files are not so dirty).  Not rendered again: that cost ~30 ms per 1,000 jobs."""
    projects = []
    for project in scan.projects:
        slug = manifest.projects[project.folder]["slug"]
        written = staging / slug / SEARCH_DATA_NAME
        text = (written if written.exists() else site / slug / SEARCH_DATA_NAME).read_text(encoding="utf-8")
        projects.append(SearchProject(project.name, slug, build_search_src(slug, text)))
    out.write_file(staging / "search.html", render_search(build_search_context(projects, MAX_LINES)))


def write_index_page(staging: Path, scan: StoreScan, manifest: Manifest) -> None:
    summaries = []
    for project in scan.projects:
        entries = manifest.jobs.get(project.folder, {}).values()
        problems = len(project.problems) + sum(len(e.problems) for e in entries)
        slug = manifest.projects[project.folder]["slug"]
        newest, failing = build_latest_runs(e.row for e in entries)  # from the data's times, never the clock's
        summaries.append(ProjectSummary(
            name=project.name, href=f"{slug}/index.html", jobs=len(entries),
            status_counts=build_status_counts([CatalogRow(*e.row).status for e in entries]), problems=problems,
            latest=_latest_run(slug, newest), latest_failure=_latest_run(slug, failing),
        ))
    out.write_file(staging / "index.html", render_index(build_index_context(summaries, scan.problems)))


def _latest_run(slug: str, values: tuple[Any, ...] | None) -> LatestRun | None:
    if values is None:
        return None
    row = CatalogRow(*values)
    return LatestRun(row.id, f"{slug}/{row.href}", row.end or row.start, not row.end, row.status)


# ----------------------------------------------------------------- what this build wrote
def list_staging(staging: Path) -> frozenset[str]:
    """Manifest text of every file in staging (before the report and manifest are written)."""
    return frozenset(encode_name(path.relative_to(staging).as_posix())
                     for path in staging.rglob("*") if path.is_file())


def build_owners(rewritten: frozenset[str], plan: Plan) -> dict[tuple[str, ...], list[str]]:
    """The files of staging by owner: ("home",), ("project", name) or ("job", project, job id).

    From the path alone: a slug never holds "~" nor is "index", "assets", "catalog-data",
    "compare", "trends" or "runs" (``paths.RESERVED``), so a project's files, a job's page, diff page,
    node pages (``<job>~...``) and folder and the assets cannot be mistaken for one another.
    """
    projects = {slug: name for name, slug in plan.project_slugs.items()}
    jobs = {name: {slug: job_id for job_id, slug in plan.job_slugs[name].items()} for name in plan.job_slugs}
    owners: dict[tuple[str, ...], list[str]] = {}
    for text in rewritten:
        parts = publish.original_name(text).split("/")  # x.gz and x.zst belong to x's owner
        if len(parts) == 1 or parts[0] == "assets":
            owner: tuple[str, ...] = ("home",)
        elif len(parts) == 2 and parts[1] in PROJECT_FILES:
            owner = ("project", projects[parts[0]])
        else:
            slug = parts[1] if len(parts) > 2 else parts[1].removesuffix(".html").split("~", 1)[0]
            owner = ("job", projects[parts[0]], jobs[projects[parts[0]]][slug])
        owners.setdefault(owner, []).append(text)
    return owners


def record_written(manifest: Manifest, previous: Manifest | None, plan: Plan, staging: Path, site: Path,
                   rewritten: frozenset[str]) -> Manifest:
    """The manifest with each owner's files and their hash.  An owner rebuilt whole has exactly
    its files of staging; one that kept some (a kept job whose diff page was written again, the
    assets when only the home page was) is hashed where each file now is (staging, else the site)."""
    owners = build_owners(rewritten, plan)
    rebuilt = {("job", ref.project, ref.job_id) for ref in plan.todo}

    def locate(name: str) -> Path:
        return (staging if encode_name(name) in rewritten else site) / name

    def record(owner: tuple[str, ...], before: Written | tuple[()]) -> Written:
        new = owners.get(owner, [])
        if not new and isinstance(before, Written):
            return before
        old = before.files if isinstance(before, Written) and owner not in rebuilt else ()
        old = publish.without_stale(old, rewritten)  # less a sibling of a file written again without one
        return build_written([*old, *new], locate, out.known_digest)

    jobs = {project: {job_id: replace(entry, files=record(("job", project, job_id), entry.files))
                      for job_id, entry in entries.items()} for project, entries in manifest.jobs.items()}
    projects = {}
    for name, value in manifest.projects.items():
        kept = previous is not None and name not in plan.dirty_projects
        written = record(("project", name), project_written(previous.projects.get(name, {})) if kept else ())
        projects[name] = {**value, "files": asdict(written)}
    home = record(("home",), previous.files if previous is not None and not plan.home else ())
    return replace(manifest, jobs=jobs, projects=projects, files=home)


def build_stats(site: Path, built: Built, check: SiteCheck | None) -> dict[str, Stat]:
    """The stat records after publishing: those the check saw for the files left in place,
    a fresh ``lstat`` for the files this build moved in."""
    kept = check.stats if check is not None else {}
    stats, fresh = {}, []
    for _, written in owners_written(built.manifest):
        for name in written.files:
            if name in built.rewritten or name not in kept:
                fresh.append(name)
            else:
                stats[name] = kept[name]
    return {**stats, **stat_files(site, fresh)}


# ----------------------------------------------------------------- parameter diffs
def write_diff_pages(staging: Path, data_store: Path, scan: StoreScan, manifest: Manifest,
                     previous: Manifest | None, plan: Plan, options: BuildOptions) -> None:
    """``<job>~params-diff.html`` and ``<job>~workflow-diff.html``: parameters, and workflow files,
    against the previous job (by end time) with another commit of that repository.

    Only pages whose job was rebuilt or whose pairing changed are written, in the
    pool like the job pages (one each is a tenth of a full build when serial).
    """
    tasks = []
    for project in scan.projects:
        rebuilt = {ref.job_id for ref in plan.todo if ref.project == project.folder}
        entries, slug = manifest.jobs.get(project.folder, {}), manifest.projects.get(project.folder, {}).get("slug", "")
        for which, repo_rel in (("params", project.params_repo), ("workflow", project.workflow_repo)):
            repo = str(data_store / repo_rel) if repo_rel else None
            old = build_diff_pairs(previous.jobs.get(project.folder, {}), which) if previous else {}
            for job_id, pair in build_diff_pairs(entries, which).items():
                if job_id in rebuilt or old.get(job_id) != pair:
                    tasks.append(_diff_task(staging, project.name, slug, entries, job_id, pair[0], repo, which))
    run_diff_tasks(tasks, options)


def _diff_task(staging: Path, project: str, slug: str, entries: dict[str, JobEntry], job_id: str, prev_id: str,
               repo: str | None, which: str = "params") -> DiffTask:
    from reportgen.readers.datastore import display_name  # imported by the scan already

    def subject(jid: str) -> tuple[str, str, str]:  # the id as shown: a listed name may hold surrogates
        return (display_name(jid), f"{entries[jid].slug}.html", _commit_of(entries[jid], which)[0])

    name = (workflow_diff_page_name if which == "workflow" else diff_page_name)(entries[job_id].slug)
    return DiffTask(str(staging), project, f"{slug}/{name}", repo, subject(job_id), subject(prev_id) if prev_id else None,
                    which)


def _commit_of(entry: JobEntry, which: str) -> tuple[str, bool]:
    """(sha, present) of a job's parameters or workflow commit."""
    if which == "workflow":
        return entry.workflow_sha, entry.workflow_present
    return entry.params_sha, entry.params_present


def run_diff_tasks(tasks: list[DiffTask], options: BuildOptions) -> None:
    """Write the diff pages, in a pool when there are many; the first write failure is raised."""
    from concurrent.futures.process import BrokenProcessPool

    workers = options.workers or os.cpu_count() or 1
    chunks = [tasks[i:i + 64] for i in range(0, len(tasks), 64)]
    errors: list[tuple[str, str, str, str]] | None = None
    if workers > 1 and len(chunks) > 2:
        try:
            with worker_pool(min(workers, len(chunks))) as pool:
                errors = list(pool.map(write_diff_chunk, chunks))
        except BrokenProcessPool:
            pass  # git cannot crash a worker, but a memory cap can: write them all here
    if errors is None:
        try:
            errors = [write_diff_chunk(chunk) for chunk in chunks]
        finally:
            close_commit_cache()
    for kind, file, reason, member in errors:
        if kind:
            raise WriteError(file, reason, member)


def build_diff_pairs(entries: dict[str, JobEntry], which: str = "params") -> dict[str, tuple[str, str, str]]:
    """job id -> (previous job id, its sha, own sha): the previous job by end time (then id)
    whose present params (or workflow) commit differs; ("", "", sha) when there is none.  One pass."""
    ordered = sorted((e.end, job_id) for job_id, e in entries.items() if _commit_of(e, which)[1])
    pairs: dict[str, tuple[str, str, str]] = {}
    last: tuple[str, str] = ("", "")  # the latest job so far and its sha
    before_last: tuple[str, str] = ("", "")  # the latest job whose sha differs from last's
    for _, job_id in ordered:
        sha = _commit_of(entries[job_id], which)[0]
        previous = last if last[0] and last[1] != sha else before_last
        pairs[job_id] = (previous[0], previous[1], sha)
        if last[0] and last[1] != sha:
            before_last = last
        last = (job_id, sha)
    return pairs


# ----------------------------------------------------------------- report
def build_report(site: Path, scan: StoreScan, manifest: Manifest, plan: Plan, timer: Timer) -> BuildReport:
    problems = list(scan.problems)
    statuses = []
    for project in scan.projects:
        problems.extend(project.problems)
        for entry in manifest.jobs.get(project.folder, {}).values():
            problems.extend(problem_from_fields(p) for p in entry.problems)
            statuses.append(CatalogRow(*entry.row).status)
    counts = dict(zip(STATUSES, build_status_counts(statuses)))
    kept = sum(len(v) for v in plan.kept.values())
    removed = len(plan.removed) + plan.jobs_of_removed_projects
    return BuildReport(str(site), len(statuses), len(plan.todo), kept, removed, counts,
                       tuple(problems), timer.total(), repaired=plan.repaired)


def render_report(report: BuildReport) -> bytes:
    """build-report.json; only its "timings" differ between two builds of the same input."""
    body = {
        "format": REPORT_FORMAT,
        "tool": f"reportgen {__version__}",
        "counts": {"jobs": report.jobs, "built": report.built, "kept": report.kept, "removed": report.removed,
                   "repaired": report.repaired, "status": report.status_counts,
                   "problems": {"error": sum(p.severity == "error" for p in report.problems),
                                "warning": sum(p.severity == "warning" for p in report.problems)}},
        "problems": [dict(zip(("severity", "code", "file", "member", "reason"), problem_fields(p)))
                     for p in report.problems],
        "timings": report.timings,
        "up_to_date": report.up_to_date,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def write_up_to_date(site: Path, scan: StoreScan, previous: Manifest, plan: Plan, timer: Timer) -> BuildReport:
    """Nothing changed: write build-report.json again (atomically, in the live site).

    Its problems and counts are made again from this scan (the store's and projects' problems) and
    the manifest's job entries, exactly as a build of the same store makes them; never read back
    from the report in the site.  That file is published, so anyone who can write the site (or a
    CI cache that restores an old one) can edit it, and no manifest vouches for it: trusting it let
    an emptied problem list pass ``--fail-on`` and stay published.  Recounting costs a pass over
    the manifest's entries, which this build has loaded anyway.
    """
    # the entries in a build's order (build_manifest: by job id), not the manifest file's (by escaped name)
    jobs = {name: dict(sorted(entries.items())) for name, entries in previous.jobs.items()}
    made = build_report(site, scan, replace(previous, jobs=jobs), plan, timer)
    report = replace(made, built=0, kept=made.jobs, removed=0, repaired=0, timings=timer.total(), up_to_date=True)
    out.write_file_durable(site / REPORT_NAME, render_report(report))
    return report
