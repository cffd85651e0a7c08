"""``[build]`` in ``build --config FILE``: the publishing options of a nightly build in one file.

The table's keys build the site the command-line options build; an option given on the command
line wins; ``templates`` is found beside the config file; a bad key is one line naming the file
and ``build.<key>`` before anything is written; ``bundle create --config`` takes the site's
columns, views and templates but never the siblings or the sitemap a web server wants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.invariants import assert_one_error_line, run_cli
from tests.site.helpers import site_digest

EXAMPLE_THEME = Path(__file__).parents[2] / "examples" / "theme"
BASE = "https://runs.example.org/catalog/"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportgen.example import write_example

    root = tmp_path_factory.mktemp("config-build") / "data_store"
    write_example(root, seed=0, jobs_per_project=2)
    return root


def write_config(folder: Path, text: str, theme: bool = True) -> Path:
    """``folder/site.toml`` with ``text``, and the example theme copied to ``folder/theme``."""
    folder.mkdir(parents=True, exist_ok=True)
    if theme:
        shutil.copytree(EXAMPLE_THEME, folder / "theme", dirs_exist_ok=True)
    config = folder / "site.toml"
    config.write_text(text, encoding="utf-8")
    return config


FULL = f'[build]\ntemplates = "theme"\nprecompress = ["zst", "gz"]\nbase_url = "{BASE}"\n'


def test_the_build_table_builds_the_site_the_options_build(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", FULL)
    from_file = run_cli("build", store, "-o", tmp_path / "a", "--config", config, cwd=tmp_path)
    assert from_file.code == 0, from_file.stderr
    from_options = run_cli("build", store, "-o", tmp_path / "b", "--templates", tmp_path / "lab" / "theme",
                           "--precompress", "gz,zst", "--base-url", BASE)
    assert from_options.code == 0, from_options.stderr
    assert site_digest(tmp_path / "a") == site_digest(tmp_path / "b")
    site = tmp_path / "a"
    assert (site / "index.html.gz").is_file() and (site / "index.html.zst").is_file()
    assert f"<loc>{BASE}index.html</loc>" in (site / "sitemap.xml").read_text()
    assert "assets/extra.css" in (site / "index.html").read_text()


def test_templates_are_found_beside_the_config_not_in_the_working_folder(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab" / "conf", '[build]\ntemplates = "theme"\n')
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "theme").mkdir(parents=True)  # an empty theme of the same name where the user stands
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config, cwd=elsewhere)
    assert run.code == 0, run.stderr
    assert "lab-name" in (tmp_path / "site" / "index.html").read_text()


def test_an_option_on_the_command_line_wins_over_the_table(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", FULL)
    other = "https://mirror.example.net/"
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config, "--base-url", other,
                  "--precompress", "gz")
    assert run.code == 0, run.stderr
    sitemap = (tmp_path / "site" / "sitemap.xml").read_text()
    assert f"<loc>{other}index.html</loc>" in sitemap and BASE not in sitemap
    assert (tmp_path / "site" / "index.html.gz").is_file()
    assert not list((tmp_path / "site").rglob("*.zst"))


def test_dropping_a_key_from_the_table_rebuilds_without_it(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", FULL)
    site = tmp_path / "site"
    assert run_cli("build", store, "-o", site, "--config", config).code == 0
    config.write_text('[build]\ntemplates = "theme"\n', encoding="utf-8")
    again = run_cli("build", store, "-o", site, "--config", config)
    assert again.code == 0, again.stderr
    assert not [p for p in site.rglob("*") if p.suffix in (".gz", ".zst")]
    assert not (site / "sitemap.xml").exists()
    fresh = run_cli("build", store, "-o", tmp_path / "fresh", "--config", config)
    assert fresh.code == 0 and site_digest(site) == site_digest(tmp_path / "fresh")


BAD = {
    "not a table": ("build = 3\n", 78, "must be a table", "'build'"),
    "unknown key": ("[build]\nworkers = 2\n", 78, "unknown key", "build.workers"),
    "templates not text": ("[build]\ntemplates = 5\n", 78, "must be a string", "build.templates"),
    "templates empty": ('[build]\ntemplates = ""\n', 78, "not empty", "build.templates"),
    "templates missing": ('[build]\ntemplates = "nope"\n', 66, "not found", "build.templates"),
    "templates a file": ('[build]\ntemplates = "site.toml"\n', 66, "is not a folder", "build.templates"),
    "unknown format": ('[build]\nprecompress = ["gz", "br"]\n', 78, "unknown format 'br'", "build.precompress"),
    "format not text": ("[build]\nprecompress = [1]\n", 78, "must be a list", "build.precompress"),
    "base_url scheme": ('[build]\nbase_url = "ftp://host/"\n', 78, "not an absolute http", "build.base_url"),
    "base_url password": ('[build]\nbase_url = "https://me:pw@host/"\n', 78, "user name or password", "build.base_url"),
    "base_url not text": ("[build]\nbase_url = true\n", 78, "must be a string", "build.base_url"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_key_is_one_line_naming_the_file_and_key_and_nothing_is_written(store: Path, tmp_path: Path,
                                                                             case: str) -> None:
    text, code, reason, member = BAD[case]
    config = write_config(tmp_path / "lab", text, theme=False)
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config)
    line = assert_one_error_line(run, code, reason, "site.toml")
    assert member in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab"]


def test_an_empty_base_url_or_precompress_in_the_table_is_none(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", '[build]\nbase_url = ""\nprecompress = ""\n', theme=False)
    run = run_cli("build", store, "-o", tmp_path / "site", "--config", config)
    assert run.code == 0, run.stderr
    assert not (tmp_path / "site" / "sitemap.xml").exists()
    assert not list((tmp_path / "site").rglob("*.gz"))


def test_a_bundle_takes_the_sites_look_and_columns_but_no_siblings_or_sitemap(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", FULL + '\n[[columns]]\ntitle = "Scan points"\n'
                          'parameter = "parameters.json:scan_list.scan_points"\n')
    bundle = tmp_path / "bundle"
    run = run_cli("bundle", "create", store, "-o", bundle, "--config", config)
    assert run.code == 0, run.stderr
    site = bundle / "data" / "site"
    assert "lab-name" in (site / "index.html").read_text()
    assert any("Scan points" in p.read_text() for p in site.glob("*/catalog-data.js"))
    assert not [p for p in site.rglob("*") if p.suffix in (".gz", ".zst")]
    assert not (site / "sitemap.xml").exists()
    assert BASE not in (site / "feed.xml").read_text()
    assert run_cli("bundle", "verify", bundle).code == 0


def test_a_bundle_with_a_bad_config_is_one_line_and_leaves_nothing(store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab", "[build]\nbase_url = 3\n", theme=False)
    run = run_cli("bundle", "create", store, "-o", tmp_path / "bundle", "--config", config)
    assert_one_error_line(run, 78, "must be a string", "build.base_url")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab"]
