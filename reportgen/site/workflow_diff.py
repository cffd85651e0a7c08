"""``<job>~workflow-diff.html``: the workflow files that changed since the previous job (by end time)
that used another workflow commit, file by file.  The pairing is the parameters diff's
(``build.build_diff_pairs``); the changed files come from ``readers/git.py`` (``read_tree_diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.records import TreeDiff
from reportgen.site.contexts import (
    DiffLine,
    DiffSubject,
    ParamsDiffPage,
    build_diff_page_head,
    build_file_diff_lines,
)

MAX_FILES_NOTE = "{left_out:,} more changed files not listed (at most {listed:,})"


@dataclass(frozen=True)
class FileDiffView:
    """One changed file: its unified diff, or a note saying why its text is not shown."""

    path: str
    change: str  # "added", "removed" or "changed"
    anchor: str  # its section's element id: "file-<n>" (a path is not an id)
    note: str
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class WorkflowDiffPage(ParamsDiffPage):
    """The parameters diff page's fields (its ``lines`` unused) and the changed files."""

    files: tuple[FileDiffView, ...] = ()


def build_file_views(diff: TreeDiff) -> tuple[FileDiffView, ...]:
    """A view per changed file; a side whose text is not shown (binary, too large) gives no lines."""
    views = []
    for number, change in enumerate(diff.changes, 1):
        shown = change.note == "" and (change.old_text is not None or change.new_text is not None)
        lines = build_file_diff_lines(change.path, change.old_text or "", change.new_text or "") if shown else ()
        views.append(FileDiffView(change.path, change.change, f"file-{number}", change.note, lines))
    return tuple(views)


def build_workflow_diff_context(project: str, job: DiffSubject, previous: DiffSubject | None, sha: str,
                                previous_sha: str, diff: TreeDiff | None) -> WorkflowDiffPage:
    """The page; ``diff`` is None when no earlier job used another workflow commit."""
    if previous is None or diff is None:
        note, files = "no earlier job of this project used a different workflow commit, so there is nothing to compare with", ()
    elif diff.state != "present":
        note, files = f"the changed files could not be read: {diff.reason}", ()
    else:
        files = build_file_views(diff)
        notes = [] if files else ["the workflow files are identical"]
        if diff.left_out:
            notes.append(MAX_FILES_NOTE.format(left_out=diff.left_out, listed=len(files)))
        note = "; ".join(notes)
    return WorkflowDiffPage(**build_diff_page_head("workflow", project, job, sha, previous, previous_sha),
                            lines=(), note=note, files=files)


def render_workflow_diff(page: WorkflowDiffPage) -> str:
    from reportgen.site.render import render_page  # here: render imports contexts, as this module does

    return render_page("workflow_diff.html", page)  # type: ignore[arg-type]
