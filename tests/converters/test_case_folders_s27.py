"""Folders a member name implies collide like named ones (review Y, s27).

``nodes/ab/…`` beside ``nodes/AB/…`` is one folder on a disk that folds case:
a folder input already refused it (the two names are listed), while zip and
tar inputs, which name only files, let it through (validate 65, migrate 0).
Every container now refuses it alike.  A folder spelt as a file (``x`` beside
``x/y``) stays the repository's file-beside-folder case, not a collision.
"""

from __future__ import annotations

import pytest

from converters.containers import OutMember, open_archive, write_archive
from converters.errors import BadInputError

NODE = "nodes/ab/cd/ef00-0000-4000-8000-000000000001/path"


def _write(tmp_path, fmt: str, names: list[str]):
    path = tmp_path / f"in.{fmt}"
    members = [OutMember("metadata.json", data=b"{}", size=2), OutMember("data.json", data=b"{}", size=2)]
    members += [OutMember(name, data=b"x", size=1) for name in names]
    write_archive(path, fmt, iter(members))
    return path


@pytest.mark.parametrize("fmt", ["zip", "tar.gz", "tar.zst"])
@pytest.mark.parametrize(("names", "said"), [
    ([f"{NODE}/a.txt", "nodes/AB/CD/EF00-0000-4000-8000-000000000001/path/b.txt"], "differ only in case"),
    ([f"{NODE}/Data", f"{NODE}/data/f.txt"], "differ only in case"),  # a named file, an implied folder
    ([f"{NODE}/data/f.txt", f"{NODE}/Data"], "differ only in case"),  # the other way round
    ([f"{NODE}/caf\u00e9/f.txt", f"{NODE}/cafe\u0301/g.txt"], "another Unicode form"),
])  # fmt: skip
def test_implied_folders_in_two_spellings_are_refused(tmp_path, fmt, names, said):
    src = _write(tmp_path, fmt, names)
    with pytest.raises(BadInputError, match=said):
        open_archive(src)


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_a_file_beside_a_folder_of_its_own_name_is_still_listed(tmp_path, fmt):
    src = _write(tmp_path, fmt, [f"{NODE}/x", f"{NODE}/x/y", f"{NODE}/z/w"])
    with open_archive(src) as archive:
        assert {f"{NODE}/x", f"{NODE}/x/y", f"{NODE}/z/w"} <= set(archive.files)
