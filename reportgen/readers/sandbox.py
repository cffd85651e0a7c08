"""Read many jobs in sandboxed worker processes, surviving a crashing libhdf5.

libhdf5 is "not designed to handle maliciously crafted files" (security
reference section 2), so HDF5 is parsed only in pool workers that have an
address-space limit (``RLIMIT_AS``), a per-job alarm (``SIGALRM`` with its
default action kills a worker stuck inside C code) and no filter plugins.

One pool serves the whole store: a process per job would cost more than the
reading.  Each worker marks a job "started" in shared memory before reading
it.  When a worker dies (a signal, the alarm, the memory limit) the executor
breaks; the jobs that had not started go to a fresh pool, and each job that
had started is re-read alone in its own process, which pins the crash on the
one file that causes it.  That file becomes a ``corrupt`` job with the
problem "HDF5 reader crashed (SIGSEGV)"; everything else is read normally.
"""

from __future__ import annotations

import ctypes
import faulthandler
import math
import multiprocessing
import multiprocessing.sharedctypes  # noqa: F401  (RawArray; loaded before any fork)
import os
import resource
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.errors import WriteError
from reportgen.progress import progress
from reportgen.readers.datastore import build_job, read_job
from reportgen.readers.git import CommitCache
from reportgen.records import Job, JobRef, Problem, ReadLimits

_CONTEXT = multiprocessing.get_context("fork")
_started = None  # shared byte array, one flag per job (set in each worker)
_commits: CommitCache | None = None  # one per worker process: repositories stay open

# What a worker does for one job (``read_job`` by default), and what stands in when it crashed.
Work = Callable[[Path, JobRef, ReadLimits, "CommitCache | None"], Any]
Fallback = Callable[[Path, JobRef, ReadLimits, str], Any]


# ---------------------------------------------------------------- worker side
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_forked_by = 0  # pid of the process that last forked: the parent a worker must not outlive


def _remember_forker() -> None:
    global _forked_by
    _forked_by = os.getpid()


os.register_at_fork(before=_remember_forker)


def die_with_parent() -> None:
    """SIGKILL this process when the process that forked it dies (Linux ``PR_SET_PDEATHSIG``).

    A build killed with ``kill -9`` runs no cleanup: without this its workers
    would go on (and keep the output's lock open) forever.  If the parent died
    before the request took effect, die now.  The git cat-file children a
    worker starts read their requests from the worker's pipe: they see end of
    file and exit when the worker dies.  Other systems: a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # no prctl: the worker still ends with its pool's pipes
    if _forked_by and os.getppid() != _forked_by:
        os.kill(os.getpid(), signal.SIGKILL)


def limit_worker(limits: ReadLimits) -> None:
    """Sandbox the current process: dies with its parent, memory cap, default alarm, no plugins, no Ctrl-C."""
    die_with_parent()
    os.environ["HDF5_PLUGIN_PRELOAD"] = "::"
    faulthandler.disable()  # a crash here is expected and reported by the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    cap = current_address_space() + limits.worker_memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def current_address_space() -> int:
    """VmSize of this process: the budget is on top of what fork gave us."""
    try:
        with open("/proc/self/status", "rb") as stream:
            for line in stream:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _init_worker(started, limits: ReadLimits) -> None:
    global _started, _commits
    _started = started
    _commits = CommitCache(limits)
    limit_worker(limits)


def fault_point(ref: JobRef) -> None:
    """``REPORTGEN_CRASH_AT=<kind>:<job id>``: make the worker of that job fail for real.

    ``hdf5`` kills it with SIGSEGV, ``hang`` never returns, ``memory`` asks numpy for
    more than the worker's address-space cap (a real ``MemoryError``, as from a 1 GB
    set; nothing happens in a process without a cap), ``recursion`` exhausts the
    stack, ``bug`` raises what a bug of ours would.  Tests use it to prove the parent
    survives without needing a file that crashes today's libhdf5 or gigabytes of data.
    """
    kind, _, job_id = os.environ.get("REPORTGEN_CRASH_AT", "").partition(":")
    if job_id != ref.job_id:
        return
    if kind == "hdf5":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang":
        while True:
            signal.pause()
    cap, _ = resource.getrlimit(resource.RLIMIT_AS)
    if kind == "memory" and cap != resource.RLIM_INFINITY:
        import numpy  # its MemoryError is a subclass, as a 1 GB set gives it

        numpy.empty(cap, numpy.uint8)  # only this process's cap can refuse it: nothing is touched
    if kind == "recursion":
        _deeper(0)
    if kind == "bug":
        raise RuntimeError(f"a bug planted by REPORTGEN_CRASH_AT in job {ref.job_id}")


def _deeper(depth: int) -> int:
    return _deeper(depth + 1) + 1  # a real RecursionError, as deeply nested data gives it


def _run_one(index: int, root: Path, ref: JobRef, limits: ReadLimits, work: Work, extra: tuple) -> tuple[int, Any]:
    _started[index] = 1
    signal.alarm(max(1, math.ceil(limits.worker_timeout_s)))
    try:
        fault_point(ref)
        return index, work(root, ref, limits, _commits, *extra)
    finally:
        signal.alarm(0)


def _run_alone(conn, root: Path, ref: JobRef, limits: ReadLimits, work: Work, extra: tuple) -> None:
    limit_worker(limits)
    signal.alarm(max(1, math.ceil(limits.worker_timeout_s)))
    fault_point(ref)
    try:
        result = work(root, ref, limits, None, *extra)
    except WriteError as exc:  # the output's disk, not the job: the caller raises it
        result = exc
    conn.send(result)
    conn.close()


# ---------------------------------------------------------------- parent side
def read_jobs(root: Path, refs: list[JobRef], limits: ReadLimits, workers: int,
              keep: Callable[[Job], Job] | None = None) -> list[Job]:
    """Every job read, in the order of ``refs``, whatever crashes on the way; each passed through
    ``keep`` as it arrives (a caller that needs only part of each record keeps only that)."""
    bar = iter(progress(_ticks(len(refs)), total=len(refs), desc="reading jobs"))
    jobs = []
    for job in iter_job_results(root, refs, limits, workers):
        jobs.append(keep(job) if keep is not None else job)
        next(bar, None)
    for _ in bar:
        pass
    return jobs


def _ticks(total: int):
    yield from range(total)


class _InOrder:
    """Results that arrive in any order, handed on in the order of the refs."""

    def __init__(self) -> None:
        self.waiting: dict[int, Any] = {}
        self.finished: set[int] = set()
        self.next = 0

    def put(self, index: int, result: Any) -> None:
        self.waiting[index] = result
        self.finished.add(index)

    def take(self) -> Iterator[Any]:
        while self.next in self.waiting:
            self.next += 1
            yield self.waiting.pop(self.next - 1)


def iter_job_results(root: Path, refs: list[JobRef], limits: ReadLimits, workers: int, work: Work = read_job,
                     fallback: Fallback | None = None, window: int = 0, extra: list[tuple] | None = None
                     ) -> Iterator[Any]:
    """``work(root, ref, limits, commits, *extra[i])`` of every ref in sandboxed workers, in the order of ``refs``.

    ``fallback(root, ref, limits, reason, *extra[i])`` (default ``crashed_job``)
    stands in for a ref whose worker crashed, hung or raised.  ``window``
    bounds how far the workers run ahead of the consumer (0: no bound), which
    bounds the results held in memory when each one is large.
    """
    tasks = _Tasks(root, refs, limits, work, fallback or crashed_job, extra or [()] * len(refs))
    out = _InOrder()
    pending = list(range(len(refs)))
    while pending:
        suspects = yield from _run_pool(tasks, pending, workers, out, window or len(refs))
        for index in suspects:
            out.put(index, read_isolated(root, refs[index], limits, work, tasks.fallback, tasks.extra[index]))
            yield from out.take()
        pending = [i for i in pending if i not in out.finished]


@dataclass(frozen=True)
class _Tasks:
    root: Path
    refs: list[JobRef]
    limits: ReadLimits
    work: Work
    fallback: Fallback
    extra: list[tuple]

    def submit(self, pool: ProcessPoolExecutor, index: int) -> Future:
        return pool.submit(_run_one, index, self.root, self.refs[index], self.limits, self.work, self.extra[index])

    def stand_in(self, index: int, reason: str) -> Any:
        return self.fallback(self.root, self.refs[index], self.limits, reason, *self.extra[index])


def _run_pool(tasks: _Tasks, pending: list[int], workers: int, out: _InOrder, window: int):
    """Run ``pending`` in one pool, yielding in order; return the jobs that were running when it broke."""
    started = _CONTEXT.RawArray("b", len(tasks.refs))
    limits = tasks.limits
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(pending))),
        mp_context=_CONTEXT,
        initializer=_init_worker,
        initargs=(started, limits),
    )
    todo = deque(pending)
    running: dict[Future, int] = {}
    broken = False
    try:
        while running or (todo and not broken):
            while todo and not broken and todo[0] < out.next + window:
                index = todo.popleft()
                running[tasks.submit(pool, index)] = index
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                try:
                    result = future.result()[1]
                except BrokenProcessPool:
                    broken = True
                    continue
                except WriteError:  # a work file could not be written: the output's disk failed, no job did
                    raise
                except Exception as exc:  # a reader bug must not lose the rest of the store
                    result = tasks.stand_in(index, f"reader failed ({type(exc).__name__}: {exc})"[:300])
                out.put(index, result)
            yield from out.take()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not broken:
        return []
    unfinished = [i for i in pending if i not in out.finished]
    # a worker that died before marking anything leaves no suspect: isolate all
    return [i for i in unfinished if started[i]] or unfinished


def read_isolated(root: Path, ref: JobRef, limits: ReadLimits, work: Work = read_job,
                  fallback: Fallback | None = None, extra: tuple = ()) -> Any:
    """Run ``work`` for one job alone in a fresh sandboxed process; a crash gives ``fallback``."""
    result, exitcode = run_alone(_run_alone, (root, ref, limits, work, extra), limits.worker_timeout_s)
    if isinstance(result, WriteError):
        raise result
    if result is not None:
        return result
    return (fallback or crashed_job)(root, ref, limits, describe_exit(exitcode), *extra)


def run_alone(target: Callable[..., None], args: tuple, timeout_s: float) -> tuple[Any, int | None]:
    """``target(conn, *args)`` in a fresh forked process: (the one object it sent or None, its exit code).

    The child is killed when it overstays, so a hang or a crash in libhdf5
    costs one process and never the caller.
    """
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=target, args=(sender, *args), daemon=True)
    process.start()
    sender.close()
    result = None
    try:
        if receiver.poll(timeout_s + 10):
            result = receiver.recv()
    except (EOFError, OSError):
        result = None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    return result, process.exitcode


def describe_exit(code: int | None) -> str:
    if code is None:
        return "HDF5 reader did not finish (killed)"
    if code < 0:
        signum = -code
        if signum == signal.SIGALRM:
            return "HDF5 reader timed out"
        return f"HDF5 reader crashed ({signal.Signals(signum).name})"
    return f"HDF5 reader exited with status {code}"


def crashed_job(root: Path, ref: JobRef, limits: ReadLimits, reason: str) -> Job:
    """The job with its logs and commits, its HDF5 file reported instead of read."""
    from reportgen.readers.hdf5 import Hdf5Job

    def report_crash(path: Path, rel: str, limits_: ReadLimits) -> Hdf5Job:
        return Hdf5Job((), (), (Problem("error", crash_code(reason), rel, "", reason),), readable=False)

    return build_job(root, ref, limits, None, report_crash)


def crash_code(reason: str) -> str:
    """The problem code of a job its worker could not read, from the words of the reason."""
    for words, code in (("timed out", "hdf5-timeout"), ("out of memory", "hdf5-memory"), ("failed", "reader-failed")):
        if words in reason:
            return code
    return "hdf5-crash"
