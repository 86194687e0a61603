"""patterns.published_state: a run publishes its stages from its steps; readers see the newest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import inngest
from inngest.experimental import mocked

from patterns.published_state import StatusBoard


def test_a_late_retry_of_an_earlier_stage_does_not_go_back(tmp_path: Path) -> None:
    board = StatusBoard(tmp_path / "board.sqlite")
    assert board.read("o1") is None
    board.publish("o1", 2, "packed", "run")
    board.publish("o1", 1, "picked", "run")  # a late retry of an earlier stage
    assert board.read("o1") == "packed"
    board.publish("o1", 3, "shipped", "run")
    assert board.read("o1") == "shipped"
    assert StatusBoard(tmp_path / "board.sqlite").read("o1") == "shipped"  # shared by the file


def test_a_run_publishes_each_stage_from_its_step_once(tmp_path: Path) -> None:
    client = mocked.Inngest(app_id="board-test", is_production=False)
    board = StatusBoard(tmp_path / "board.sqlite")
    seen: list[str | None] = []
    stages = ("picked", "packed", "shipped")

    @client.create_function(fn_id="fulfil", trigger=inngest.TriggerEvent(event="t/fulfil"))
    async def fulfil(ctx: inngest.Context) -> str:
        for number, stage in enumerate(stages, start=1):

            async def reach(number: int = number, stage: str = stage) -> str:
                board.publish("o9", number, stage, ctx.run_id)
                return stage

            await ctx.step.run(f"stage-{stage}", reach)
            seen.append(board.read("o9"))  # what a reader sees after the step
            await ctx.step.sleep(f"after-{stage}", timedelta(seconds=1))
        return stages[-1]

    result = mocked.trigger(fulfil, inngest.Event(name="t/fulfil"), client)
    assert result.output == "shipped" and board.read("o9") == "shipped"
    assert "picked" in seen and "packed" in seen  # each stage was readable in turn
