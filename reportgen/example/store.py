"""The faithful example data_store: projects, jobs, logs and repositories.

Only what the real system writes (reference 2.3 and 2.4, design decisions
D1-D3): ``<project>/<job id>.hdf5`` per job, ``<project>/<job id>/<node>.log``
per node, and ``git/<project>/{workflow,params}.git``.  Everything derives
from the seed through ``random.Random`` instances seeded with strings, so a
job's content does not depend on how many other jobs were generated before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reportgen.example.gitrepos import CommitSpec, write_repo
from reportgen.example.logs import render_node_log
from reportgen.example.workflow import (
    NODES,
    Parameters,
    Sets,
    build_node_specs,
    build_parameters,
    build_params_tree,
    build_sets,
    build_workflow_tree,
)
from reportgen.example.writer import write_job_hdf5

LAB_ZONE = timezone(timedelta(hours=3))  # the lab's local zone, as Flame writes it
EPOCH = datetime(2022, 6, 20, 9, 0, tzinfo=LAB_ZONE)

# (prefix, author, email) of the default projects: ASCII names only.
PROJECTS: tuple[tuple[str, str, str], ...] = (
    ("default_project", "Dana Levi", "dana.levi@lab.example"),
    ("ion_trap_scan", "Omer Katz", "omer.katz@lab.example"),
    ("qpu_bench", "Maya Cohen", "maya.cohen@lab.example"),
)

DESCRIPTIONS = (
    "Scan {lo}-{hi} MHz",
    "Repeat scan after recalibration",
    "Overnight scan, {n} points",
    "Check correction convergence",
    "Scan with updated parameters",
    "Quick sanity run",
)


class Mtimes(dict):
    """Path -> modification time to stamp once the tree is complete."""

    def stamp(self, path: Path, when: datetime) -> None:
        self[path] = when.timestamp()


@dataclass(frozen=True)
class JobPlan:
    """Everything that decides one job, fixed before anything is written."""

    project: str
    index: int  # within the project, chronological
    job_id: str
    start: datetime
    workflow_rev: int
    params_rev: int
    seed: str


@dataclass(frozen=True)
class ProjectPlan:
    prefix: str
    number: int  # 1-based, gives the workflow and parameters EUIs
    author: str
    email: str
    starts: tuple[datetime, ...]
    workflow_changes: tuple[int, ...]  # job indices where a new workflow commit precedes the job
    params_changes: tuple[int, ...]


def build_project_plan(seed: int, number: int, prefix: str, author: str, email: str, jobs: int) -> ProjectPlan:
    rng = random.Random(f"{seed}/project/{prefix}")
    moment = EPOCH + timedelta(days=number - 1, minutes=rng.randint(0, 90))
    starts = []
    for _ in range(jobs):
        moment += timedelta(minutes=rng.randint(20, 20 * 60), seconds=rng.randint(0, 59))
        starts.append(moment)
    workflow = sorted({0, jobs // 3, (2 * jobs) // 3} - {jobs} if jobs else set())
    params = sorted({0} | {i for i in range(1, jobs) if rng.random() < 0.3})
    return ProjectPlan(prefix, number, author, email, tuple(starts), tuple(workflow), tuple(params))


def _revision(changes: tuple[int, ...], index: int) -> int:
    return sum(1 for change in changes if change <= index) - 1


def build_job_plans(seed: int, projects: list[ProjectPlan], first_number: int = 1) -> list[JobPlan]:
    """Jobs of all projects, numbered ``j<N>`` in the order they ran."""
    runs = sorted((start, p.number, i, p) for p in projects for i, start in enumerate(p.starts))
    return [
        JobPlan(
            p.prefix, i, f"j{first_number + k}", start,
            _revision(p.workflow_changes, i), _revision(p.params_changes, i), f"{seed}/job/{p.prefix}/{i}",
        )
        for k, (start, _, i, p) in enumerate(runs)
    ]


# ---------------------------------------------------------------- repositories
def build_commit_time(plan: ProjectPlan, index: int, salt: str) -> datetime:
    rng = random.Random(f"{salt}/{plan.prefix}/{index}")
    return plan.starts[index] - timedelta(minutes=rng.randint(3, 45), seconds=rng.randint(0, 59))


def build_params_versions(seed: int, plan: ProjectPlan) -> list[Parameters]:
    rng = random.Random(f"{seed}/params/{plan.prefix}")
    return [build_parameters(rng, revision) for revision in range(len(plan.params_changes))]


def write_project_repos(root: Path, seed: int, plan: ProjectPlan) -> tuple[list[str], list[str]]:
    """``git/<prefix>/workflow.git`` and ``params.git``; returns both SHA lists."""
    repos = root / "git" / plan.prefix
    workflow = [
        CommitSpec(build_workflow_tree(rev), f"Update workflow ({rev + 1})\n" if rev else "Create workflow\n",
                   plan.author, plan.email, build_commit_time(plan, index, f"{seed}/w"))
        for rev, index in enumerate(plan.workflow_changes)
    ]
    params = [
        CommitSpec(build_params_tree(p), "Initial parameters\n" if rev == 0 else f"Edit parameters ({rev + 1})\n",
                   plan.author, plan.email, build_commit_time(plan, index, f"{seed}/p"))
        for rev, (index, p) in enumerate(zip(plan.params_changes, build_params_versions(seed, plan)))
    ]
    return write_repo(repos / "workflow.git", workflow), write_repo(repos / "params.git", params)


# ---------------------------------------------------------------- jobs
@dataclass(frozen=True)
class JobContent:
    """What one job writes: metadata, node specs, logs and the end time."""

    metadata: dict
    nodes: list
    logs: dict[str, str]
    end: datetime


def build_description(rng: random.Random, params: Parameters, count: int) -> str:
    template = rng.choice(DESCRIPTIONS)
    return template.format(lo=min(params.scan_points), hi=max(params.scan_points), n=count)


def build_job_content(plan: JobPlan, project: ProjectPlan, params: Parameters, shas: tuple[str, str],
                      failed: bool) -> JobContent:
    """A normal run of the workflow; ``failed`` makes correction_1 crash."""
    rng = random.Random(plan.seed)
    count = rng.randint(10, 50)
    sets = build_sets(rng, params, plan.start, count)
    crash_at = rng.randint(2, count - 3) if failed else None
    stop = {"correction_1": crash_at} if failed else {}
    nodes = build_node_specs(sets, rng, stop)
    end = sets.iterations[-1] + timedelta(seconds=rng.uniform(1.0, 4.0))
    metadata = {
        "project": plan.project,
        "runtime_id": 1,
        "job_eui": f"#/{plan.job_id}",
        "workflow_eui": f"#/w{project.number}",
        "parameters_eui": f"#/p{project.number}",
        "workflow_commit_id": shas[0],
        "parameters_commit_id": shas[1],
        "job_description": build_description(rng, params, count),
        "creation_timestamp": end.astimezone(LAB_ZONE).isoformat(),
    }
    return JobContent(metadata, nodes, build_job_logs(sets, params, count, crash_at), end)


def build_job_logs(sets: Sets, params: Parameters, count: int, crash_at: int | None) -> dict[str, str]:
    """Every node's log; after a crash of correction_1 the others ran one more step."""
    if crash_at is None:
        return {node.name: render_node_log(node.name, sets, params, count) for node in NODES}
    logs = {node.name: render_node_log(node.name, sets, params, crash_at + 1) for node in NODES}
    logs["correction_1"] = render_node_log("correction_1", sets, params, crash_at, crash=True)
    logs["final_report"] = render_node_log("final_report", sets, params, crash_at)
    return logs


def write_job(project_dir: Path, job_id: str, content: JobContent, mtimes: Mtimes) -> None:
    """``<job id>.hdf5`` plus ``<job id>/<node>.log``, stamped at the job's end."""
    project_dir.mkdir(parents=True, exist_ok=True)
    hdf5 = project_dir / f"{job_id}.hdf5"
    write_job_hdf5(hdf5, content.metadata, content.nodes)
    mtimes.stamp(hdf5, content.end)
    write_logs(project_dir / job_id, content.logs, content.end, mtimes)


def write_logs(log_dir: Path, logs: dict[str, str | bytes], end: datetime, mtimes: Mtimes) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    for node, text in logs.items():
        path = log_dir / f"{node}.log"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        mtimes.stamp(path, end)
    mtimes.stamp(log_dir, end)


def is_failed(plan: JobPlan, project: ProjectPlan, jobs: int) -> bool:
    """About one job in eight crashes; the middle job of the first project always does."""
    if project.number == 1 and plan.index == jobs // 2:
        return True
    return random.Random(plan.seed + "/failed").random() < 0.12


def write_faithful_store(root: Path, seed: int, jobs_per_project: int, mtimes: Mtimes) -> int:
    """The default data_store; returns the number of jobs written."""
    projects = [build_project_plan(seed, n, *spec, jobs_per_project) for n, spec in enumerate(PROJECTS, 1)]
    repos = {p.prefix: write_project_repos(root, seed, p) for p in projects}
    by_prefix = {p.prefix: p for p in projects}
    plans = build_job_plans(seed, projects)
    for plan in plans:
        project = by_prefix[plan.project]
        workflow_shas, params_shas = repos[plan.project]
        params = build_params_versions(seed, project)[plan.params_rev]
        shas = (workflow_shas[plan.workflow_rev], params_shas[plan.params_rev])
        content = build_job_content(plan, project, params, shas, is_failed(plan, project, jobs_per_project))
        write_job(root / plan.project, plan.job_id, content, mtimes)
    return len(plans)
