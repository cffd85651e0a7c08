"""Long archive work reports progress: stages that count what they say, bars only on a terminal."""

from __future__ import annotations

import zipfile

import converters
from converters.main import convert
from converters.progress import reporting
from tests.converters import builders as b
from tests.converters_main.helpers import legacy_archive
from tests.invariants import run_cli, run_on_terminal


class Bar:
    def __init__(self, description: str, total: int | None, unit: str) -> None:
        self.description, self.total, self.unit = description, total, unit
        self.advanced, self.closed = 0, False

    def update(self, n: int) -> None:
        self.advanced += n

    def close(self) -> None:
        self.closed = True


class Recorder:
    """A sink that keeps every stage's bar: its total and the sum of its advances."""

    def __init__(self) -> None:
        self.bars: list[Bar] = []

    def __call__(self, description: str, total: int | None, unit: str) -> Bar:
        self.bars.append(Bar(description, total, unit))
        return self.bars[-1]

    def named(self, description: str) -> Bar:
        return next(bar for bar in self.bars if bar.description == description)


def test_a_legacy_migration_counts_its_bytes_and_entries(tmp_path):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.4"), "zip")
    sizes = {i.filename.rstrip("/"): i.file_size for i in zipfile.ZipFile(src).infolist()}
    recorder = Recorder()
    with reporting(recorder):
        converters.migrate(src, tmp_path / "out.zip")
    data = recorder.named("reading data.json")
    assert data.total == data.advanced == sizes["data.json"]
    repository = recorder.named("repository")
    assert repository.total == repository.advanced == sum(name.startswith("nodes") for name in sizes)
    written = recorder.named("writing out.zip")
    assert written.advanced == sum(i.file_size for i in zipfile.ZipFile(tmp_path / "out.zip").infolist())
    assert all(bar.closed for bar in recorder.bars)


def test_legacy_to_main_reports_each_phase(tmp_path):
    recorder = Recorder()
    with reporting(recorder):
        convert(legacy_archive(tmp_path), tmp_path / "out.aiida")
    names = [bar.description for bar in recorder.bars]
    for phase in ("repository", "reading data.json", "links, groups and repository trees", "writing out.aiida"):
        assert phase in names, names
    steps = recorder.named("links, groups and repository trees")
    assert steps.total == steps.advanced == 4


def test_the_output_is_the_same_with_or_without_a_sink(tmp_path):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.4"), "zip")
    with reporting(Recorder()):
        converters.migrate(src, tmp_path / "watched.zip")
    converters.migrate(src, tmp_path / "quiet.zip")
    assert (tmp_path / "watched.zip").read_bytes() == (tmp_path / "quiet.zip").read_bytes()


def test_bars_on_a_terminal_and_silence_in_ci(tmp_path):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.4"), "zip")
    code, terminal = run_on_terminal("archive", "migrate", src, tmp_path / "tty.zip")
    assert code == 0
    assert "reading data.json" in terminal and "repository" in terminal
    ci = run_cli("archive", "migrate", src, tmp_path / "ci.zip")
    assert ci.code == 0 and ci.stderr == ""
    assert (tmp_path / "tty.zip").read_bytes() == (tmp_path / "ci.zip").read_bytes()
