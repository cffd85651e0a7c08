"""Commit ids as real writers record them (week s24, findings F3-F5), read from real repositories.

Every repository is made with the git CLI (``git init --object-format=sha256``, ``git tag -a``),
every job file with h5py (``builders.simple_job``); what is asserted is what a user sees:
``reportgen inspect --json`` (states, problem codes, reasons, exit code), the built site's pages,
and an export restored again.

- F3: an annotated tag's SHA (what ``git rev-parse v1`` prints) shows the commit the tag points
  to (reference D3: ``<sha>^{commit}``), with one ``commit-annotated-tag`` warning; a tree or
  blob SHA stays ``not-in-repo`` and the reason says what the object is.
- F4: SHA-256 repositories read as SHA-1 ones do: commits, files, diffs, export and restore.
- F5: an uppercase or whitespace-padded SHA is read, with one ``commit-id-normalised`` warning;
  an abbreviated one stays ``commit-invalid`` and says it is abbreviated.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from reportgen.site.build import BuildOptions, build_site
from tests.invariants import run_cli
from tests.readers.builders import git, simple_job

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_V1 = {"workflow.py": "print('v1')\n", "entropynodes/schema/QPU.json": '{"name": "QPU"}\n'}
WORKFLOW_V2 = {"workflow.py": "print('v2')\n"}
PARAMS = '{{"QPU": {{"shots": {}}}}}\n'
COMMIT_ATTRS = ("@workflow_commit", "@parameters_commit")


def make_repo(bare: Path, revisions: list[dict[str, str]], object_format: str = "sha1") -> list[str]:
    """A bare repository in ``object_format``, one commit per revision (files added or changed),
    made as a lab makes one: a work repository, commits, ``git clone --bare``.  Returns the SHAs."""
    work = bare.parent / (bare.name + ".work")
    git("init", "-q", "-b", "main", f"--object-format={object_format}", str(work))
    shas = []
    for number, files in enumerate(revisions):
        for rel, text in files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_text(text, encoding="utf-8")
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", f"revision {number}", cwd=work)
        shas.append(git("rev-parse", "HEAD", cwd=work))
    git("clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)
    return shas


def make_store(tmp_path: Path, object_format: str = "sha1") -> tuple[Path, list[str], list[str]]:
    """A data_store with project ``lab``: two workflow and two parameters commits."""
    store = tmp_path / "data_store"
    repos = store / "git" / "lab"
    repos.mkdir(parents=True)
    workflow = make_repo(repos / "workflow.git", [WORKFLOW_V1, WORKFLOW_V2], object_format)
    params = make_repo(repos / "params.git", [{"parameters.json": PARAMS.format(100)},
                                              {"parameters.json": PARAMS.format(200)}], object_format)
    return store, workflow, params


def add_job(store: Path, job_id: str, workflow: str, params: str, day: int = 25) -> None:
    simple_job(store, "lab", job_id, workflow_commit=workflow, parameters_commit=params,
               creation_timestamp=f"2022-06-{day}T14:41:05+02:00")


def inspect(store: Path) -> tuple[int, dict[str, dict], list[dict]]:
    """(exit code, job id -> job, problems) of ``reportgen inspect --json``."""
    run = run_cli("inspect", "--json", store)
    assert run.code in (0, 65), run.stderr
    report = json.loads(run.stdout)
    jobs = {job["id"]: job for project in report["projects"] for job in project["jobs"]}
    return run.code, jobs, report["problems"]


def commit_problems(problems: list[dict], job_id: str) -> list[tuple[str, str, str, str]]:
    """(severity, code, member, reason) of one job's commit problems, in order."""
    return [(p["severity"], p["code"], p["member"], p["reason"]) for p in problems
            if p["file"] == f"lab/{job_id}.hdf5" and p["member"] in COMMIT_ATTRS]


def build(store: Path, site: Path) -> None:
    build_site(store, site, BuildOptions(workers=1, show_progress=False))


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


# ---------------------------------------------------------------- F3: annotated tags, other objects
def test_annotated_tag_sha_shows_the_commit_it_points_to(tmp_path):
    store, workflow, params = make_store(tmp_path)
    bare = store / "git" / "lab" / "workflow.git"
    git("--git-dir", str(bare), "tag", "-a", "v1", "-m", "release v1", workflow[0])
    tag = git("--git-dir", str(bare), "rev-parse", "v1")
    assert tag != workflow[0] and git("--git-dir", str(bare), "cat-file", "-t", tag) == "tag"
    add_job(store, "j1", tag, params[0])

    code, jobs, problems = inspect(store)
    assert code == 0  # a warning, not an error
    assert jobs["j1"]["workflow_commit"] == {"sha": workflow[0], "state": "present"}
    note = f"workflow_commit {tag} is annotated tag 'v1'; showing the commit it points to, {workflow[0]}"
    assert commit_problems(problems, "j1") == [("warning", "commit-annotated-tag", "@workflow_commit", note)]

    site = tmp_path / "site"
    build(store, site)
    text = page_text(site / "lab" / "j1.html")
    assert f"SHA {workflow[0]} state present: {tag} is annotated tag 'v1'" in text
    assert "print('v1')" in text  # the files of the commit the tag points to


def test_objects_that_are_no_commit_say_what_they_are(tmp_path):
    store, workflow, params = make_store(tmp_path)
    workflow_git, params_git = (store / "git" / "lab" / name for name in ("workflow.git", "params.git"))
    tree = git("--git-dir", str(workflow_git), "rev-parse", f"{workflow[0]}^{{tree}}")
    blob = git("--git-dir", str(params_git), "rev-parse", f"{params[0]}:parameters.json")
    git("--git-dir", str(workflow_git), "tag", "-a", "trees", "-m", "a tag of a tree", tree)
    tree_tag = git("--git-dir", str(workflow_git), "rev-parse", "trees")
    git("--git-dir", str(workflow_git), "tag", "-a", "old", "-m", "a tag of a commit since lost", workflow[0])
    lost_tag = git("--git-dir", str(workflow_git), "rev-parse", "old")
    (workflow_git / "objects" / workflow[0][:2] / workflow[0][2:]).unlink()  # a history cut below the tag
    add_job(store, "j1", tree, blob)
    add_job(store, "j2", tree_tag, params[0])
    add_job(store, "j3", lost_tag, params[0])

    code, jobs, problems = inspect(store)
    assert code == 65
    assert jobs["j1"]["workflow_commit"] == {"sha": tree, "state": "not-in-repo"}
    assert commit_problems(problems, "j1") == [
        ("error", "commit-not-in-repo",
         "@workflow_commit", f"{tree} in workflow.git is a tree, not a commit"),
        ("error", "commit-not-in-repo",
         "@parameters_commit", f"{blob} in params.git is a blob, not a commit"),
    ]
    assert commit_problems(problems, "j2") == [
        ("error", "commit-not-in-repo", "@workflow_commit",
         f"{tree_tag} in workflow.git is annotated tag 'trees' of a tree, not of a commit"),
    ]
    assert commit_problems(problems, "j3") == [
        ("error", "commit-not-in-repo", "@workflow_commit",
         f"{lost_tag} in workflow.git is annotated tag 'old'; the commit it points to, {workflow[0]}, "
         "is not in workflow.git"),
    ]


# ---------------------------------------------------------------- F4: SHA-256 repositories
@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_repositories_of_either_object_format_read_alike(tmp_path, object_format):
    store, workflow, params = make_store(tmp_path, object_format)
    assert len(workflow[0]) == (64 if object_format == "sha256" else 40)
    add_job(store, "j1", workflow[0], params[0], day=25)
    add_job(store, "j2", workflow[1], params[1], day=26)

    code, jobs, problems = inspect(store)
    assert code == 0 and problems == []
    assert jobs["j2"]["workflow_commit"] == {"sha": workflow[1], "state": "present"}
    assert jobs["j2"]["params_commit"] == {"sha": params[1], "state": "present"}

    site = tmp_path / "site"
    build(store, site)
    job_page = page_text(site / "lab" / "j2.html")
    assert f"SHA {workflow[1]} state present subject revision 1" in job_page
    assert "print('v2')" in job_page and '{"QPU": {"shots": 200}}' in job_page
    workflow_diff = page_text(site / "lab" / "j2~workflow-diff.html")
    assert f"Commit {workflow[1]} compared with {workflow[0]}" in workflow_diff
    assert "1 changed file: workflow.py" in workflow_diff and "-print('v1') +print('v2')" in workflow_diff
    params_diff = page_text(site / "lab" / "j2~params-diff.html")
    assert '-{"QPU": {"shots": 100}} +{"QPU": {"shots": 200}}' in params_diff


def test_sha256_store_survives_export_and_restore(tmp_path):
    store, workflow, params = make_store(tmp_path, "sha256")
    add_job(store, "j1", workflow[1], params[1])
    archive, restored = tmp_path / "runs.aiida", tmp_path / "restored"
    assert run_cli("export", store, "-o", archive).code == 0
    run = run_cli("restore", archive, "-o", restored)
    assert run.code == 0, run.stderr
    for name in ("workflow.git", "params.git"):
        original, copy = store / "git" / "lab" / name, restored / "git" / "lab" / name
        assert git("--git-dir", str(copy), "rev-parse", "--show-object-format") == "sha256"
        assert git("--git-dir", str(copy), "for-each-ref") == git("--git-dir", str(original), "for-each-ref")
    code, jobs, problems = inspect(restored)
    assert code == 0 and problems == []
    assert jobs["j1"]["workflow_commit"] == {"sha": workflow[1], "state": "present"}


def test_damaged_object_of_a_sha256_repository_is_unreadable_not_absent(tmp_path):
    store, workflow, params = make_store(tmp_path, "sha256")
    loose = store / "git" / "lab" / "workflow.git" / "objects" / workflow[0][:2] / workflow[0][2:]
    loose.chmod(0o644)
    loose.write_bytes(loose.read_bytes()[:10])  # still stored, no longer readable
    add_job(store, "j1", workflow[0], params[0], day=25)
    add_job(store, "j2", workflow[1], params[1], day=26)  # the same repository's other commit

    code, jobs, problems = inspect(store)
    assert code == 65
    [(severity, problem, _, reason)] = commit_problems(problems, "j1")
    assert (severity, problem) == ("error", "commit-unreadable")
    assert reason.startswith(f"commit {workflow[0]} is in workflow.git but cannot be read: ")
    assert jobs["j2"]["workflow_commit"] == {"sha": workflow[1], "state": "present"}


def test_sha1_id_asked_of_a_sha256_repository_says_why_it_is_not_there(tmp_path):
    store, workflow, params = make_store(tmp_path, "sha256")
    sha1 = workflow[0][:40]  # also a prefix of a stored object: git must not take it for an abbreviation
    add_job(store, "j1", sha1, params[0])
    _, jobs, problems = inspect(store)
    assert jobs["j1"]["workflow_commit"] == {"sha": sha1, "state": "not-in-repo"}
    assert commit_problems(problems, "j1") == [
        ("error", "commit-not-in-repo", "@workflow_commit",
         f"commit {sha1} is a SHA-1 id; workflow.git is a SHA-256 repository, so it cannot hold it"),
    ]


# ---------------------------------------------------------------- F5: near-miss ids
def test_uppercase_and_padded_ids_are_read_with_a_warning(tmp_path):
    store, workflow, params = make_store(tmp_path)
    add_job(store, "upper", workflow[0].upper(), params[0])
    add_job(store, "padded", workflow[0] + "\n", f" {params[0].upper()}\t")

    code, jobs, problems = inspect(store)
    assert code == 0
    for job_id in ("upper", "padded"):
        assert jobs[job_id]["workflow_commit"] == {"sha": workflow[0], "state": "present"}
        assert jobs[job_id]["params_commit"] == {"sha": params[0], "state": "present"}
    assert commit_problems(problems, "upper") == [
        ("warning", "commit-id-normalised", "@workflow_commit",
         f"workflow_commit {workflow[0].upper()!r} has uppercase hex digits; read as {workflow[0]}"),
    ]
    assert commit_problems(problems, "padded") == [
        ("warning", "commit-id-normalised", "@workflow_commit",
         f"workflow_commit {workflow[0] + chr(10)!r} has surrounding whitespace; read as {workflow[0]}"),
        ("warning", "commit-id-normalised", "@parameters_commit",
         f"parameters_commit {' ' + params[0].upper() + chr(9)!r} has uppercase hex digits and surrounding "
         f"whitespace; read as {params[0]}"),
    ]


def test_abbreviated_and_wrong_length_ids_stay_errors_that_say_why(tmp_path):
    store, workflow, params = make_store(tmp_path)
    add_job(store, "short", workflow[0][:7], params[0][:7].upper())
    add_job(store, "long", workflow[0] + "a", "not a sha")

    code, jobs, problems = inspect(store)
    assert code == 65
    assert jobs["short"]["workflow_commit"] == {"sha": workflow[0][:7], "state": "invalid"}
    abbreviated = "abbreviated (7 hex digits); Entropy records the full 40 (or 64)"
    assert commit_problems(problems, "short") == [
        ("error", "commit-invalid", "@workflow_commit",
         f"invalid commit id {workflow[0][:7]!r}: {abbreviated}"),
        ("error", "commit-invalid", "@parameters_commit",
         f"invalid commit id {params[0][:7].upper()!r}: {abbreviated}"),
    ]
    wrong_length = "41 hex digits; a commit id has 40 (SHA-1) or 64 (SHA-256)"
    assert commit_problems(problems, "long") == [
        ("error", "commit-invalid", "@workflow_commit",
         f"invalid commit id {workflow[0] + 'a'!r}: {wrong_length}"),
        ("error", "commit-invalid", "@parameters_commit", "invalid commit id 'not a sha'"),
    ]


# ---------------------------------------------------------------- the docs
def test_the_new_codes_are_in_the_problem_table():
    text = (ROOT / "docs" / "data-store.md").read_text(encoding="utf-8")
    table = text[text.index("\n## Problems"):]
    rows = {code: severity for codes, severity in re.findall(r"^\| (`[^|]+) \| ([a-z ]+) \|", table, re.M)
            for code in re.findall(r"`([a-z0-9-]+)`", codes)}
    assert rows["commit-annotated-tag"] == rows["commit-id-normalised"] == "warning"
