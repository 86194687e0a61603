"""A long job as one step per chunk, instead of one long step with heartbeats.

Problem: Inngest has no heartbeat. A long ``step.run`` is all or nothing: while it runs its
progress is invisible, and if the app dies the retry repeats the whole step from the start.

The pattern: split the job into chunks and run each chunk as its own step. Every completed chunk
is a checkpoint (memoized: a crash repeats at most the chunk that was running) and shows in the
run's trace as it completes, which is the progress a heartbeat would report.

When to use it: a job that can be cut into pieces whose results are small (IDs, counts, a
cursor), such as a reindex, a backfill or a batch export.

Limits: each step is a request round trip, so very small chunks cost more in overhead than they
save; a run has a documented maximum number of steps (1,000 by default), so size chunks to stay
well under it; each chunk's return value is stored, so return a summary, not the data; a chunk
interrupted by a crash runs again, so its effect must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import inngest

Chunk = TypeVar("Chunk")
T = TypeVar("T")


async def run_in_chunks(
    ctx: inngest.Context,
    step_prefix: str,
    chunks: Sequence[Chunk],
    work: Callable[[Chunk], Awaitable[T]],
) -> list[T]:
    """Run ``work(chunk)`` for each chunk as step ``{step_prefix}-{index}``, in order; return
    their results. On a re-entry, completed chunks are answered from memoized state."""
    results: list[T] = []
    for index, chunk in enumerate(chunks):
        results.append(await ctx.step.run(f"{step_prefix}-{index}", work, chunk))
    return results
