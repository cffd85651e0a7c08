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

import faulthandler
import math
import multiprocessing
import multiprocessing.sharedctypes  # noqa: F401  (RawArray; loaded before any fork)
import os
import resource
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from reportgen.progress import progress
from reportgen.readers.datastore import build_job, read_job
from reportgen.readers.git import CommitCache
from reportgen.records import Job, JobRef, Problem, ReadLimits

_CONTEXT = multiprocessing.get_context("fork")
_started = None  # shared byte array, one flag per job (set in each worker)
_commits: CommitCache | None = None  # one per worker process: repositories stay open


# ---------------------------------------------------------------- worker side
def limit_worker(limits: ReadLimits) -> None:
    """Sandbox the current process: memory cap, default alarm, no plugins, no Ctrl-C."""
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
    """``REPORTGEN_CRASH_AT=hdf5:<job id>`` / ``hang:<job id>``: make a worker die or hang.

    Tests use it to prove the parent survives a real SIGSEGV or a stuck
    libhdf5 without needing a file that crashes today's libhdf5.
    """
    fault = os.environ.get("REPORTGEN_CRASH_AT", "")
    if fault == f"hdf5:{ref.job_id}":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault == f"hang:{ref.job_id}":
        while True:
            signal.pause()


def _read_one(index: int, root: Path, ref: JobRef, limits: ReadLimits) -> tuple[int, Job]:
    _started[index] = 1
    signal.alarm(max(1, math.ceil(limits.worker_timeout_s)))
    try:
        fault_point(ref)
        return index, read_job(root, ref, limits, _commits)
    finally:
        signal.alarm(0)


def _read_alone(conn, root: Path, ref: JobRef, limits: ReadLimits) -> None:
    limit_worker(limits)
    signal.alarm(max(1, math.ceil(limits.worker_timeout_s)))
    fault_point(ref)
    conn.send(read_job(root, ref, limits))
    conn.close()


# ---------------------------------------------------------------- parent side
def read_jobs(root: Path, refs: list[JobRef], limits: ReadLimits, workers: int) -> list[Job]:
    """Every job read, in the order of ``refs``, whatever crashes on the way."""
    results: dict[int, Job] = {}
    pending = list(range(len(refs)))
    bar = iter(progress(_ticks(len(refs)), total=len(refs), desc="reading jobs"))
    while pending:
        suspects = _run_pool(root, refs, pending, limits, workers, results, bar)
        for index in suspects:
            results[index] = read_isolated(root, refs[index], limits)
            next(bar, None)
        pending = [i for i in pending if i not in results]
    for _ in bar:
        pass
    return [results[i] for i in range(len(refs))]


def _ticks(total: int):
    yield from range(total)


def _run_pool(root, refs, pending, limits, workers, results, bar) -> list[int]:
    """Run ``pending`` in one pool; return the jobs that were running when it broke."""
    started = _CONTEXT.RawArray("b", len(refs))
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(pending))),
        mp_context=_CONTEXT,
        initializer=_init_worker,
        initargs=(started, limits),
    )
    futures: dict[Future, int] = {pool.submit(_read_one, i, root, refs[i], limits): i for i in pending}
    broken = False
    try:
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    index, job = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                except Exception as exc:  # a reader bug must not lose the rest of the store
                    index = futures[future]
                    job = crashed_job(root, refs[index], limits, f"reader failed ({type(exc).__name__}: {exc})"[:300])
                results[index] = job
                next(bar, None)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not broken:
        return []
    unfinished = [i for i in pending if i not in results]
    # a worker that died before marking anything leaves no suspect: isolate all
    return [i for i in unfinished if started[i]] or unfinished


def read_isolated(root: Path, ref: JobRef, limits: ReadLimits) -> Job:
    """Read one job alone in a fresh sandboxed process; a crash becomes a corrupt job."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_read_alone, args=(sender, root, ref, limits), daemon=True)
    process.start()
    sender.close()
    job = None
    try:
        if receiver.poll(limits.worker_timeout_s + 10):
            job = receiver.recv()
    except (EOFError, OSError):
        job = None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if job is not None:
        return job
    return crashed_job(root, ref, limits, describe_exit(process.exitcode))


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
        code = "hdf5-timeout" if "timed out" in reason else "reader-failed" if "failed" in reason else "hdf5-crash"
        return Hdf5Job((), (), (Problem("error", code, rel, "", reason),), readable=False)

    return build_job(root, ref, limits, None, report_crash)
