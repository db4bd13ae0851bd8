"""Image-by-image work on a big batch, cut into chunks run on up to one thread per core.

Distorting and deskewing the training images (`model.inputs.augment`,
`model.inputs.deskew`) treat every image on its own, in SciPy's `ndimage`
filters, which release the GIL; between L-BFGS-B stages they ran on one core
while the other waited. `each_chunk` cuts the batch into consecutive chunks
and runs them on a small thread pool. Since no chunk's result depends on
another's, the output is the same bytes whatever the number of threads or
cores. Left out: processes (the batch would be copied) and small batches,
which stay on the calling thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

CHUNK = 8192
"""Images per chunk, the default of `augment_batch` and `deskew`: a batch this size or smaller
stays on the calling thread (recognition's batches always do)."""


def chunk_slices(n: int, chunk: int) -> list[slice]:
    """Consecutive slices of ``range(n)``, each `chunk` long but the last."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 row, got {chunk}")
    return [slice(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def each_chunk(n: int, chunk: int, work: Callable[[slice], None], threads: int | None = None) -> None:
    """Call ``work(s)`` for each chunk slice of ``range(n)``, on up to `threads` threads (default:
    one per core). `work` writes its chunk's result itself; an error in any chunk is raised here."""
    slices = chunk_slices(n, chunk)
    threads = min(len(slices), threads or os.cpu_count() or 1)
    if threads <= 1:
        for s in slices:
            work(s)
        return
    with ThreadPoolExecutor(threads) as pool:
        for done in [pool.submit(work, s) for s in slices]:
            done.result()
