"""legacy -> main_0001 gives the same bytes from a zip, a folder, a tar.gz or a tar.zst
(docs/archives-main.md): repo/<sha256> members leave in the order of the smallest member
name holding each blob, not in the order a tar stream happens to hold them."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from converters.main.runner import convert
from tests.converters import builders as b


def _members_out_of_order() -> dict[str, bytes]:
    """A 0.13 archive whose repository files are written in reverse name order, with one
    content under two names (the key's place is its smaller name's, which comes last)."""
    members = b.build_members("0.13")
    node = b.node_dir(json.loads(members["data.json"])["export_data"]["Node"]["1"]["uuid"])
    repo = {f"{node}/path/f{i:02d}.txt": f"file {i}\n".encode() for i in range(12)}
    repo[f"{node}/path/a-same.txt"] = repo[f"{node}/path/f11.txt"]
    head = {k: v for k, v in members.items() if not k.startswith("nodes/")}
    rest = {k: v for k, v in members.items() if k.startswith("nodes/")} | repo
    return head | dict(sorted(rest.items(), reverse=True))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_container_gives_the_same_main_archive(tmp_path: Path):
    members = _members_out_of_order()
    outputs = {}
    for container, suffix in (("zip", ".zip"), ("folder", ""), ("tar.gz", ".tar.gz"), ("tar.zst", ".tar.zst")):
        src = b.write_container(tmp_path / f"in{suffix}", members, container)
        outputs[container] = convert(src, tmp_path / f"out-{container}.aiida", to_version="main_0001").output
    digests = {container: _sha(Path(out)) for container, out in outputs.items()}
    assert len(set(digests.values())) == 1, digests
    with zipfile.ZipFile(outputs["tar.gz"]) as zf:
        blobs = [name for name in zf.namelist() if name.startswith("repo/")]
    assert len(blobs) == len(set(blobs)) >= 12
    assert not [p.name for p in tmp_path.iterdir() if ".work-" in p.name]
