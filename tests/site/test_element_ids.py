"""Element ids on a job page are unique, even where a node's slug is another node's plain name or a
log's tail numbering meets another node's lines; every in-page link has its one target."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import h5py

from tests.invariants import run_cli

STR = h5py.string_dtype("utf-8")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value is not None)


def write_clashing_job(store: Path) -> None:
    """Node ``A`` slugs to ``a-559aead0``, which is another node's plain name; the end of
    node ``x``'s long log is numbered ``node-x-tail-L<n>``, as node ``x-tail``'s lines are."""
    (store / "proj" / "j1").mkdir(parents=True)
    with h5py.File(store / "proj" / "j1.hdf5", "w") as f:
        for key, value in (("project", "proj"), ("job_eui", "#/j1"), ("job_description", "d"), ("workflow_eui", ""),
                           ("parameters_eui", ""), ("creation_timestamp", "2024-01-01T00:00:00+00:00")):
            f.attrs.create(key, value, dtype=STR)
        for name in ("A", "a-559aead0", "x", "x-tail"):
            group = f.create_group(name)
            for key in ("type", "description", "bin"):
                group.attrs.create(key, "t", dtype=STR)
            group.create_dataset("o_time", data=["2024-01-01T00:00:00.000Z"], dtype=STR)
            group.create_dataset("o", data=[1.0])
            text = "".join(f"{name} line {i} " + "." * 3000 + "\n" for i in range(100)) if name == "x" else \
                "".join(f"{name} line {i}\n" for i in range(200))
            (store / "proj" / "j1" / f"{name}.log").write_text(text)


def test_job_page_element_ids_are_unique(tmp_path: Path) -> None:
    write_clashing_job(tmp_path / "store")
    run = run_cli("build", tmp_path / "store", "-o", tmp_path / "site")
    assert run.code == 0, run.stderr
    text = (tmp_path / "site" / "proj" / "j1.html").read_text(encoding="utf-8")
    parser = _Ids()
    parser.feed(text)
    assert parser.ids["node-x-tail-L100"] == 1  # the tail of x's log is on the page
    assert [name for name, count in parser.ids.items() if count > 1] == []
    for target in re.findall(r'href="#([^"]+)"', text):  # and every in-page link has a target
        assert parser.ids[target] == 1, target
