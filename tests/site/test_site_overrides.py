"""``build --templates DIR``: template and static-file overrides (reportgen/site/overrides.py).

Real builds of a small example data_store: positive cases in process (fast), every refused
case through the CLI as a user runs it (one error line, the exit code, nothing written).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from reportgen.site import jobpage
from reportgen.site.build import BuildOptions, build_site
from reportgen.site.overrides import MAX_FILES, MAX_TEMPLATE_BYTES, build_overrides_hash
from tests.invariants import assert_one_error_line, run_cli, tree_digest
from tests.site.helpers import site_digest

EXAMPLE_THEME = Path(__file__).parents[2] / "examples" / "theme"
LAB = '<span class="lab-name">Quantum Devices Lab</span>'
FOOT = ' <span class="lab-footer">Quantum Devices Lab, internal use only.</span>'
VARYING = {"build-report.json", "build-manifest.json"}  # timings; the theme hash


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three projects of two jobs: every page kind but node pages (see the split test)."""
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("overrides") / "data_store"
    write_example(root, seed=0, jobs_per_project=2)
    return root


def build(store: Path, site: Path, templates: Path | None = None) -> Path:
    build_site(store, site, BuildOptions(workers=1, show_progress=False, templates=templates))
    return site


def files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and p.relative_to(site).as_posix() not in VARYING}


def write_theme(folder: Path, templates: dict[str, str]) -> Path:
    for name, text in templates.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def without_example_theme(html: str, root: str) -> str:
    """A page of the example theme with its three additions taken out (each must be there once)."""
    for added in (f'<link rel="stylesheet" href="{root}assets/extra.css">\n', LAB, FOOT):
        assert html.count(added) == 1, added
        html = html.replace(added, "")
    return html


@pytest.fixture(scope="module")
def default_site(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(store, tmp_path_factory.mktemp("default") / "site")


# ----------------------------------------------------------------- the default and the sandbox
def test_an_empty_override_folder_renders_every_page_byte_identical(store: Path, default_site: Path,
                                                                    tmp_path: Path) -> None:
    """The sandboxed environment, the chained loader and the new blocks change no byte of any page."""
    (tmp_path / "empty").mkdir()
    site = build(store, tmp_path / "site", tmp_path / "empty")
    assert files(site) == files(default_site)
    assert build_overrides_hash(None) == "" and build_overrides_hash(tmp_path / "empty") != ""


def test_the_example_theme_shows_on_every_page_kind_and_the_rest_is_as_before(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobpage, "SPLIT_NODES", 1)  # node pages too (the workers are forked: they see it)
    plain = build(store, tmp_path / "plain")
    themed = build(store, tmp_path / "themed", EXAMPLE_THEME)
    pages = sorted(name for name in files(plain) if name.endswith(".html"))
    kinds = {"index.html", "search.html", "compare.html", "trends.html", "params-diff.html", "node-"}
    assert all(any(kind in name for name in pages) for kind in kinds), pages
    for name in pages:
        root = "../" * name.count("/")
        assert without_example_theme((themed / name).read_text(), root) == (plain / name).read_text(), name
    assert (themed / "assets" / "extra.css").read_bytes() == (EXAMPLE_THEME / "static" / "extra.css").read_bytes()
    assert set(files(themed)) == set(files(plain)) | {"assets/extra.css"}


def test_a_partial_override_extends_the_built_in_one(store: Path, default_site: Path, tmp_path: Path) -> None:
    theme = write_theme(tmp_path / "theme", {"_partials/kv.html":
                                             '{% include "reportgen/_partials/kv.html" %}<p class="lab-kv">{{ rows|length }} rows</p>'})
    site = build(store, tmp_path / "site", theme)
    job = (site / "default_project" / "j1.html").read_text()
    added = re.findall(r'<p class="lab-kv">[0-9]+ rows</p>', job)
    assert added and re.sub(r'<p class="lab-kv">[0-9]+ rows</p>', "", job) == (default_site / "default_project" / "j1.html").read_text()
    assert (site / "index.html").read_bytes() == (default_site / "index.html").read_bytes()  # no kv table there


def test_static_files_replace_ours_and_add_new_ones_without_extra_css_no_link(store: Path, default_site: Path,
                                                                               tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    (theme / "static" / "img").mkdir(parents=True)
    (theme / "static" / "site.css").write_text("body { color: teal; }\n")
    (theme / "static" / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    site = build(store, tmp_path / "site", theme)
    assert (site / "assets" / "site.css").read_text() == "body { color: teal; }\n"
    assert (site / "assets" / "img" / "logo.png").read_bytes().startswith(b"\x89PNG")
    assert (site / "assets" / "theme.js").read_bytes() == (default_site / "assets" / "theme.js").read_bytes()
    assert (site / "index.html").read_bytes() == (default_site / "index.html").read_bytes()  # no extra.css: no link


# ----------------------------------------------------------------- incremental builds
def test_editing_an_override_rebuilds_everything_and_dropping_it_restores_the_default(
        store: Path, default_site: Path, tmp_path: Path) -> None:
    theme = write_theme(tmp_path / "theme", {"base.html": '{% extends "reportgen/base.html" %}'
                                                          '{% block footer %}Lab one{% endblock %}'})
    site = tmp_path / "site"
    build(store, site, theme)
    assert '<footer class="foot">Lab one</footer>' in (site / "qpu_bench" / "j5.html").read_text()
    again = build_site(store, site, BuildOptions(workers=1, show_progress=False, templates=theme))
    assert again.up_to_date
    write_theme(theme, {"base.html": '{% extends "reportgen/base.html" %}{% block footer %}Lab two{% endblock %}'})
    edited = build_site(store, site, BuildOptions(workers=1, show_progress=False, templates=theme))
    assert not edited.up_to_date and edited.built == edited.jobs == 6 and edited.kept == 0
    assert '<footer class="foot">Lab two</footer>' in (site / "qpu_bench" / "j5.html").read_text()
    build(store, site)  # no --templates: the built-in theme again, every page
    assert files(site) == files(default_site)


def test_two_builds_with_overrides_are_byte_identical(store: Path, tmp_path: Path) -> None:
    one = build(store, tmp_path / "one", EXAMPLE_THEME)
    two = build(store, tmp_path / "two", EXAMPLE_THEME)
    assert site_digest(one) == site_digest(two)


# ----------------------------------------------------------------- refused: one line, nothing written
def _refused(store: Path, tmp_path: Path, theme: Path, code: int, keyword: str, file_part: str = "",
             env: dict[str, str] | None = None) -> str:
    """Build over an existing site: the error line, no byte of the site or the store changed, nothing
    added beside them (the lock file beside the site only has the pid of its last holder rewritten)."""
    site = build(store, tmp_path / "out" / "site")
    before, store_before, names = tree_digest(site), tree_digest(store), sorted(os.listdir(tmp_path / "out"))
    run = run_cli("build", store, "-o", site, "--templates", theme, "--workers", "2", env=env)
    line = assert_one_error_line(run, code, keyword, file_part)
    assert tree_digest(site) == before and tree_digest(store) == store_before
    assert sorted(os.listdir(tmp_path / "out")) == names
    return line


# case -> (the files of the folder, a keyword of the reason, the file the line names)
BAD_FILES = {
    "syntax": ({"job.html": '{% extends "reportgen/job.html" %}\n\n\n{% block main %}{{ page.title } }}{% endblock %}'},
               "line 4: unexpected '}'", "theme/job.html'"),
    "unknown filter": ({"index.html": "{{ page.title|shout }}"}, "line 1: no filter named 'shout'", "theme/index.html'"),
    "too big": ({"base.html": "x" * (MAX_TEMPLATE_BYTES + 1)}, "over 1,048,576 bytes", "theme/base.html'"),
    "unsafe name": ({"static/a b.css": "x"}, "unsafe name", "a b.css'"),
    "hidden name": ({"static/.htaccess": "x"}, "unsafe name", ".htaccess'"),
    "not a template": ({"base.htm": "x"}, "not a template", "theme/base.htm'"),
    "prefix folder": ({"reportgen/base.html": "x"}, "built-in templates", "theme/reportgen'"),
    "too many files": ({f"static/f{i}.css": "x" for i in range(MAX_FILES + 1)}, f"over {MAX_FILES} files", "theme'"),
}
# case -> (what makes the one file theme/base.html, a keyword of the reason)
BAD_KINDS = {
    "symlink": (lambda path: path.symlink_to(EXAMPLE_THEME / "base.html"), "symlink"),
    "fifo": (os.mkfifo, "not a regular file"),
    "not utf-8": (lambda path: path.write_bytes(b"caf\xe9"), "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_refused_file_is_exit_78_naming_it_and_nothing_is_written(store: Path, tmp_path: Path, case: str) -> None:
    templates, keyword, file_part = BAD_FILES[case]
    _refused(store, tmp_path, write_theme(tmp_path / "theme", templates), 78, keyword, file_part)


@pytest.mark.parametrize("case", sorted(BAD_KINDS))
def test_a_file_of_a_refused_kind_is_exit_78_naming_it(store: Path, tmp_path: Path, case: str) -> None:
    make, keyword = BAD_KINDS[case]
    (tmp_path / "theme").mkdir()
    make(tmp_path / "theme" / "base.html")
    _refused(store, tmp_path, tmp_path / "theme", 78, keyword, "theme/base.html'")


@pytest.mark.parametrize("case", ["missing", "a file"])
def test_a_missing_folder_or_a_file_is_exit_66(store: Path, tmp_path: Path, case: str) -> None:
    theme = tmp_path / "theme"
    if case == "a file":
        theme.write_text("{% block footer %}{% endblock %}")
    _refused(store, tmp_path, theme, 66, "not found" if case == "missing" else "not a directory", "theme'")


@pytest.mark.parametrize(("template", "keyword"), [
    ("{% extends \"reportgen/job.html\" %}\n{% block main %}\n{{ page.jobid }}{% endblock %}",
     "line 3: cannot render: 'reportgen.site.contexts.JobPage object' has no attribute 'jobid'"),
    ("{% extends \"reportgen/job.html\" %}{% block main %}{{ 1 // (page.title|length - page.title|length) }}{% endblock %}",
     "line 1: cannot render: ZeroDivisionError"),
])
def test_an_override_failing_in_a_page_worker_is_exit_78_naming_its_line(store: Path, tmp_path: Path,
                                                                         template: str, keyword: str) -> None:
    """job.html renders in the pool's workers: the error crosses to the parent whole, not as exit 70."""
    theme = write_theme(tmp_path / "theme", {"job.html": template})
    _refused(store, tmp_path, theme, 78, keyword, "theme/job.html'")


def test_an_override_failing_after_a_worker_crash_is_still_exit_78(store: Path, tmp_path: Path) -> None:
    """A crashed pool's jobs are built one by one in fresh processes: their error reaches the parent too."""
    theme = write_theme(tmp_path / "theme", {"job.html": "{{ page.jobid }}"})
    _refused(store, tmp_path, theme, 78, "has no attribute 'jobid'", "theme/job.html'",
             env={"REPORTGEN_CRASH_AT": "hdf5:j1"})


@pytest.mark.parametrize("reach", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ page.__class__ }}",
    "{{ lipsum.__globals__['os'].system('touch MARKER') }}",
])
def test_the_sandbox_refuses_a_template_reaching_python(store: Path, tmp_path: Path, reach: str) -> None:
    marker = tmp_path / "ran"
    theme = write_theme(tmp_path / "theme", {"base.html": '{% extends "reportgen/base.html" %}'
                                                          '{% block footer %}' + reach.replace("MARKER", str(marker))
                                                          + "{% endblock %}"})
    _refused(store, tmp_path, theme, 78, "unsafe", "theme/base.html'")
    assert not marker.exists()


def test_the_example_theme_builds_through_the_cli(store: Path, tmp_path: Path) -> None:
    run = run_cli("build", store, "-o", tmp_path / "site", "--templates", EXAMPLE_THEME, "--workers", "1")
    assert run.code == 0, run.stderr
    assert LAB in (tmp_path / "site" / "search.html").read_text()
    shutil.rmtree(tmp_path / "site")


# ----------------------------------------------------------------- bounded rendering, the policy (audit-s21)
def test_an_override_exhausting_memory_is_exit_78_never_70(store: Path, tmp_path: Path) -> None:
    """The job page's worker meets its memory cap; the page saying the job could not be built is
    rendered with the same theme, now in a capped child of the parent: 78, not an internal error.
    (A filter, not ``*``: a theme's product of that size is refused before it is made.)"""
    theme = write_theme(tmp_path / "theme", {"job.html": '{% extends "reportgen/job.html" %}'
                                                         '{% block extra_head %}{{ "a"|center(10**11)|length }}{% endblock %}'})
    line = _refused(store, tmp_path, theme, 78, "rendering job.html with these templates ran out of memory", "theme'")
    assert "internal" not in line


def test_an_override_that_never_ends_in_a_page_the_parent_renders_is_stopped(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """index.html renders in the building process: with a theme, in a child under an alarm."""
    from reportgen.errors import ConfigError
    from reportgen.site import render

    monkeypatch.setattr(render, "RENDER_TIMEOUT_S", 2)
    loop = "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}"
    theme = write_theme(tmp_path / "theme", {"index.html": '{% extends "reportgen/index.html" %}'
                                                           "{% block extra_head %}" + loop + "{% endblock %}"})
    site = build(store, tmp_path / "site")
    before = tree_digest(site)
    with pytest.raises(ConfigError, match="rendering index.html with these templates did not finish in 2 s"):
        build(store, site, theme)
    assert tree_digest(site) == before


@pytest.mark.parametrize(("change", "keyword"), [
    (lambda base, meta: base.replace(meta, ""), "lacks the built-in Content-Security-Policy"),
    (lambda base, meta: base.replace(meta, "<script src=\"x.js\"></script>\n" + meta), "has a script before"),
])
def test_an_override_that_drops_the_policy_is_exit_78(store: Path, tmp_path: Path, change, keyword: str) -> None:
    """The policy keeps hostile data from running as script if a theme prints it unescaped."""
    base = (Path(__file__).parents[2] / "site_templates" / "base.html").read_text(encoding="utf-8")
    meta = '<meta http-equiv="Content-Security-Policy" content="{{ csp }}">'
    assert meta in base
    theme = write_theme(tmp_path / "theme", {"base.html": change(base, meta)})
    _refused(store, tmp_path, theme, 78, keyword, "theme/base.html'")
