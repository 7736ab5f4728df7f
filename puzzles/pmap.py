"""``pmap``: a deterministic parallel map for building training pools.

Pool items depend only on (seed, index), so mapping the indices over worker processes
gives exactly the serial result, in order, whatever the number of workers. Workers are
spawned (not forked): a parent that already runs torch threads or CUDA cannot deadlock
a child that way.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence

#: below this many items per worker, starting processes costs more than it saves
MIN_PER_WORKER = 64


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def pmap(fn: Callable, items: Sequence, workers: int = 1) -> list:
    """``[fn(x) for x in items]`` on ``workers`` processes (0: every core; 1: in this one).

    ``fn`` must be picklable (a module-level function, or a functools.partial of one).
    Small inputs run here: fewer than MIN_PER_WORKER items per worker are not worth a process.
    """
    workers = min(workers or cores(), max(1, len(items) // MIN_PER_WORKER))
    if workers <= 1:
        return [fn(x) for x in items]
    import multiprocessing as mp
    with mp.get_context("spawn").Pool(workers) as pool:
        return pool.map(fn, items, chunksize=max(1, len(items) // (4 * workers)))
