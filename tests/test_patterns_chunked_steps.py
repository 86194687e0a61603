"""patterns.chunked_steps under the mocked executor: one memoized step per chunk."""

from __future__ import annotations

import inngest
from inngest.experimental import mocked

from patterns.chunked_steps import run_in_chunks

client = mocked.Inngest(app_id="chunks-test", is_production=False)
done: list[str] = []


async def index(batch: str) -> int:
    done.append(batch)
    return len(batch)


@client.create_function(fn_id="reindex", trigger=inngest.TriggerEvent(event="t/reindex"))
async def reindex(ctx: inngest.Context) -> list[int]:
    return await run_in_chunks(ctx, "batch", ["ab", "cde", "f"], index)


def test_every_chunk_runs_once_as_its_own_step() -> None:
    done.clear()
    result = mocked.trigger(reindex, inngest.Event(name="t/reindex"), client)
    assert result.output == [2, 3, 1]
    assert done == ["ab", "cde", "f"]


def test_completed_chunks_are_answered_from_memoized_state() -> None:
    # As after a crash in the third chunk: the first two are memoized and do not run again.
    done.clear()
    result = mocked.trigger(
        reindex,
        inngest.Event(name="t/reindex"),
        client,
        step_stubs={"batch-0": 2, "batch-1": 3},
    )
    assert result.output == [2, 3, 1]
    assert done == ["f"]
