"""Catalog and search polish (s21): the store the browser tests of test_browser_polish.py open, and
what of it the build writes: attribute columns as text (so the catalog, not the build, decides
that "9", "10", "100" are numbers), a long attribute in the search data whole up to search.py's
bound (so search.html, not the build, cuts its snippet), and the "job id" scope offered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from reportgen.site import search as srch
from reportgen.site.build import BuildOptions, build_site
from tests.site.catalog_data import catalog_rows
from tests.site.one_job_store import write_node, write_output, write_root_attrs

STR = h5py.string_dtype("utf-8")
# A long attribute whose one rare word sits in the middle: its snippet is cut at both ends
NOTE = "note=" + "alpha " * 20 + "glimmer " + "omega " * 15
# Two characters in JavaScript each, one in Python: a cut must not split one
EMOJI = "emoji=" + "\U0001F600" * 60 + "zephyr" + "\U0001F600" * 60
# "\u0130" is two characters in lower case: a match's place in the lower-case text is not its place
DOTTED = "dotted=" + "\u0130" * 60 + " quokka " + "x" * 120
# Per job the root attributes of the configured columns (absent: an empty cell); "fridge3" is a job
# id and, in j1, a word of an attribute: the "job id" scope tells the two apart
JOBS: dict[str, dict[str, str]] = {
    "j1": {"rank": "9", "tag": "run10", "strict": "1e3", "frac": "2.5", "level": "5", "site": "fridge3 east",
           "big": "9007199254740993", "mixed": "9007199254740993"},
    "j2": {"rank": "10", "tag": "run9", "strict": "20", "frac": "-1", "level": "n/a", "note": NOTE[5:],
           "big": "9007199254740992", "mixed": "9007199254740992"},
    "j3": {"rank": "100", "tag": "alpha", "strict": "3", "frac": "10.25", "level": "40",
           "big": "9007199254740994", "mixed": "9007199254740992.0",
           "emoji": EMOJI[6:], "dotted": DOTTED[7:]},
    "j4": {},
    "fridge3": {},
}
CONFIG = "".join(f'[[columns]]\ntitle = "{name.title()}"\nattribute = "{name}"\n'
                 for name in ("big", "mixed", "rank", "tag", "strict", "frac", "level"))


def write_polish_store(store: Path) -> None:
    for minute, (job, attrs) in enumerate(JOBS.items(), 1):
        (store / "p" / job).mkdir(parents=True)
        (store / "p" / job / "n.log").write_bytes(b"ok\n")
        with h5py.File(store / "p" / f"{job}.hdf5", "w") as f:
            write_root_attrs(f, job, f"2022-06-25T14:{minute:02d}:05.123456+02:00")
            for name, value in attrs.items():
                f.attrs.create(name, value, dtype=STR)
            write_output(write_node(f), "v", np.array([1.0]))


@pytest.fixture(scope="module")
def polish_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("polish")
    write_polish_store(root / "store")
    (root / "catalog.toml").write_text(CONFIG, encoding="utf-8")
    build_site(root / "store", root / "site", BuildOptions(workers=1, show_progress=False, config_file=root / "catalog.toml"))
    return root / "site"


def test_attribute_cells_are_texts_even_when_they_read_as_numbers(polish_site: Path) -> None:
    rows = {row["id"]: row for row in catalog_rows(polish_site, "p")}
    assert [rows[j]["c-rank"] for j in ("j1", "j2", "j3")] == ["9", "10", "100"]
    assert rows["j4"]["c-rank"] == {"why": "no such root attribute"}


def test_a_long_attribute_reaches_the_search_data_whole(polish_site: Path) -> None:
    text = (polish_site / "p" / srch.SEARCH_DATA_NAME).read_text(encoding="utf-8")
    jobs = {job["id"]: job for job in json.loads(text[text.index("(") + 1:text.rindex(")")])["jobs"]}
    assert len(NOTE) < srch.MAX_TEXT and NOTE in jobs["j2"]["attrs"]


def test_the_search_page_offers_the_job_id_scope(polish_site: Path) -> None:
    page = (polish_site / "search.html").read_text(encoding="utf-8")
    scopes = re.search(r'<select id="search-scope">(.*?)</select>', page).group(1)
    assert re.findall(r'<option value="([a-z]*)">', scopes) == ["", "metadata", "parameters", "logs", "id"]
    assert '<option value="id">job id</option>' in scopes
