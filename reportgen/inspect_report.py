"""``reportgen inspect``: a DataStore -> a text or JSON report, and an exit code.

Text: one block per project (job count, status counts, one line per job in natural order),
then every problem as ``severity code 'file':'member': reason``.  JSON: the
same facts with sorted keys, so two runs over the same store are identical.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from collections import Counter
from datetime import datetime
from typing import Any

from reportgen.errors import EXIT_DATAERR, EXIT_OK
from reportgen.readers.datastore import encode_name
from reportgen.readers.logs import error_line_count, warning_line_count
from reportgen.records import STATUSES, DataStore, Job, Problem
from reportgen.site.feeds import build_natural_key
from reportgen.timetext import render_utc

JSON_FORMAT = "reportgen-inspect/1"  # changes when a key of the JSON report changes meaning or goes away


def format_time(when: datetime | None) -> str:
    """UTC, ISO 8601 with a literal Z (D5: display in UTC)."""
    if when is None:
        return ""
    return render_utc(when, timespec="auto") + "Z"


def status_counts(jobs: tuple[Job, ...]) -> dict[str, int]:
    counts = Counter(job.status for job in jobs)
    return {status: counts[status] for status in STATUSES if counts[status]}


def output_count(job: Job) -> int:
    return sum(len(node.outputs) for node in job.nodes)


def render_problem(problem: Problem) -> str:
    return f"{problem.severity} {problem.code} {problem.describe()}"


def render_name(name: str) -> str:
    """A name as it is when plain, else as ``repr()``: a newline or a bidi control in a
    file name must not forge or reorder report lines (audit F11)."""
    return name if name.isprintable() and name.strip() == name and not name.startswith("'") else repr(name)


def render_job_line(job: Job) -> str:
    start = format_time(job.start_time)
    approx = " (approx.)" if start else ""
    return (
        f"  {render_name(job.job_id)}: {job.status}; {len(job.nodes)} nodes, {output_count(job)} outputs, {len(job.logs)} logs;"
        f" start {start or '-'}{approx}, end {format_time(job.end_time) or '-'}"
    )


def render_text(store: DataStore) -> str:
    lines = [f"data_store {store.root!r}: {len(store.projects)} projects"]
    for project in store.projects:
        counts = ", ".join(f"{status} {n}" for status, n in status_counts(project.jobs).items()) or "no jobs"
        lines.append(f"project {project.name!r}: {len(project.jobs)} jobs ({counts})")
        # natural order (j9 before j10), as the site's catalog and feeds list them
        lines.extend(render_job_line(job) for job in sorted(project.jobs, key=lambda job: build_natural_key(job.job_id)))
    problems = store.all_problems()
    errors = sum(1 for p in problems if p.severity == "error")
    lines.append(f"problems: {len(problems)} ({errors} errors, {len(problems) - errors} warnings)")
    lines.extend(render_problem(p) for p in problems)
    return "\n".join(lines)


def problem_dict(problem: Problem) -> dict[str, str]:
    return asdict(problem)


def exact_text(raw: str | None, shown: str | None) -> str | None:
    """A name exactly (``encode_name``, as build-manifest.json writes it); ``shown`` (the
    display text, ``\\xNN`` for an undecodable byte) when the raw name is not known."""
    return encode_name(raw) if raw is not None else shown


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.job_id,
        "id_exact": exact_text(job.raw_job_id, job.job_id),  # "id" shows bytes as \xNN: two jobs can share it
        "status": job.status,
        "hdf5_file": job.hdf5_file,
        "hdf5_file_exact": exact_text(job.raw_hdf5_file, job.hdf5_file),
        "log_dir": job.log_dir,
        "log_dir_exact": exact_text(job.raw_log_dir, job.log_dir),
        "description": job.description,
        "start_time": format_time(job.start_time),
        "start_time_source": job.start_time_source,
        "end_time": format_time(job.end_time),
        "creation_timestamp": job.creation_timestamp,
        "nodes": len(job.nodes),
        "outputs": output_count(job),
        "logs": len(job.logs),
        "workflow_commit": {"sha": job.workflow.sha, "state": job.workflow.state},
        "params_commit": {"sha": job.params.sha, "state": job.params.state},
        "command_line_run": job.command_line_run,
        "problems": [problem_dict(p) for p in job.problems],
    }


def build_inspect_dict(store: DataStore) -> dict[str, Any]:
    problems = store.all_problems()
    return {
        "format": JSON_FORMAT,
        "root": store.root,
        "projects": [
            {
                "name": project.name,
                "jobs": [job_dict(job) for job in project.jobs],
                "status_counts": status_counts(project.jobs),
                "workflow_repo": project.workflow_repo,
                "params_repo": project.params_repo,
                "problems": [problem_dict(p) for p in project.problems],
            }
            for project in store.projects
        ],
        "store_problems": [problem_dict(p) for p in store.problems],
        "problems": [problem_dict(p) for p in problems],
        "counts": {
            "projects": len(store.projects),
            "jobs": sum(len(p.jobs) for p in store.projects),
            "errors": sum(1 for p in problems if p.severity == "error"),
            "warnings": sum(1 for p in problems if p.severity == "warning"),
        },
    }


def build_report_job(job: Job) -> Job:
    """The part of a job the report shows: its previews (rows, strings, log text, attributes)
    dropped as each job arrives, so a store of 20,000 jobs is not held whole (it took 1.8 GB)."""
    nodes = tuple(
        replace(group, attrs=(), outputs=tuple(replace(o, preview=(), attrs=(), times=None) for o in group.outputs))
        for group in job.nodes
    )
    logs = tuple(replace(log, preview="", tail="", error_lines=(), traceback_lines=(), warning_lines=(),
                         error_lines_left_out=error_line_count(log), warning_lines_left_out=warning_line_count(log))
                 for log in job.logs)  # the lines dropped, their counts kept
    return replace(job, root_attrs=(), nodes=nodes, logs=logs)


def render_inspect(store: DataStore, as_json: bool) -> str:
    """The report ``reportgen inspect`` prints."""
    if as_json:
        return json.dumps(build_inspect_dict(store), sort_keys=True, indent=1, ensure_ascii=True) + "\n"
    return render_text(store)


def inspect_exit_code(store: DataStore, strict: bool) -> int:
    """0 without error problems (with ``strict``: without any problem), else 65."""
    counted = [p for p in store.all_problems() if strict or p.severity == "error"]
    return EXIT_DATAERR if counted else EXIT_OK
