"""An output name whose suffix promises a container that is not written (``.tar``, ``.zst``, ...) is a
usage error unless ``--format`` says which; known suffixes and names without one keep their format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converters import builders as b
from tests.invariants import assert_one_error_line, run_cli


@pytest.mark.parametrize("name", ["x.tar", "x.TAR", "x.tar.zstd", "x.zst", "x.zstd", "x.gz", "x.tar.xz", "x.tar.bz2"])
def test_an_output_named_for_an_unwritten_container_is_a_usage_error(tmp_path: Path, name: str):
    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    run = run_cli("archive", "migrate", src, tmp_path / name)
    assert_one_error_line(run, 64, "--format", name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("name", "fmt"), [("x.aiida", "zip"), ("x.zip", "zip"), ("x.data", "zip"), ("x", "zip"),
                                           ("x.tgz", "tar.gz"), ("x.tar.gz", "tar.gz"), ("x.tzst", "tar.zst"),
                                           ("x.tar.zst", "tar.zst")])  # fmt: skip
def test_known_and_unknown_suffixes_keep_their_format(name: str, fmt: str):
    from converters.containers import guess_format

    assert guess_format(Path(name)) == fmt


def test_format_given_overrides_a_tar_name(tmp_path: Path):
    import tarfile

    src = b.write_container(tmp_path / "in.zip", b.build_members("0.13"), "zip")
    assert run_cli("archive", "migrate", src, tmp_path / "x.tar", "--format", "tar.gz").code == 0
    assert tarfile.is_tarfile(tmp_path / "x.tar")
