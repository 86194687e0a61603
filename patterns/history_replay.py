"""Replay a recorded run against new code before deploying it (a check Inngest does not ship).

Problem: Inngest keeps a run's completed steps as memoized outputs keyed by step ID. When new
code is deployed, runs in flight continue on it: each step the new code reaches is looked up by
its ID, a step whose ID is not found runs as new work, and a recorded step the code no longer
reaches is dropped. Nothing warns about either. This module is the missing check, in the spirit
of Temporal's workflow replayer.

When to use it: in CI, before each deploy of a function that has long-lived runs in flight.

1. A :class:`History` is a run's step history: step IDs (as written in code and as the SDK
   hashes them), kinds, each step's output or error, the triggering events and the run's own
   output. :meth:`History.save` / :meth:`History.load` keep it as a JSON fixture next to your
   tests. Record it from a real run (the run's trace and step outputs, as the dev server's API
   gives them), or write it by hand.
2. :func:`replay` runs a function's (new) code against that history in memory, with the Python
   SDK's own execution machinery, as its mocked executor does (``inngest.experimental.mocked``):
   every step the code reaches is answered with its recorded output, no step handler runs,
   nothing is sent and no server is involved. The :class:`ReplayReport` lists every
   incompatibility, each naming the step: a step with no recorded output (new or renamed), a
   recorded step never reached (removed or renamed), steps reached out of order, a step ID now
   used for another kind of step, and the new code failing on a recorded output or event
   (a changed output shape). ``report.ok`` is True when there is none.

In CI, before a deploy::

    from patterns.history_replay import History, replay

    def test_checkout_still_replays_recorded_runs() -> None:
        for path in sorted(Path("tests/histories").glob("checkout-*.json")):
            replay(checkout, History.load(path)).assert_compatible()

or from a shell: ``python -m patterns.history_replay check app/functions.py:checkout
tests/histories/*`` (exit code 1 on an incompatibility).

Limits: the replay answers steps by their hashed ID, exactly as Inngest does, so a step reused in
a loop ("fetch", "fetch:1", …) is matched per call. Parallel steps (one ``ctx.group.parallel``)
may be reached in any order among themselves. Code outside steps runs for real, as it does on
every request in production. The replay stops at the first step it has no output for: what
comes after it would need that step's real output. It relies on SDK internals that
``inngest.experimental.mocked`` uses too; pin the SDK version and keep a test of a known
incompatibility so an SDK upgrade that changes them fails loudly.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import unittest.mock
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import inngest
from inngest._internal import (
    execution_lib,
    middleware_lib,
    net,
    server_lib,
    step_lib,
    transforms,
)
from inngest._internal import types as sdk_types
from inngest.experimental import mocked
from pydantic import BaseModel, Field, ValidationError

# The run statuses after which a run changes no more (as Inngest's API reports them).
FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "SKIPPED", "OVERFLOWED"})

FORMAT_VERSION = 1


# --- the recorded history ------------------------------------------------------------------------
class StepKind(StrEnum):
    RUN = "run"  # step.run, and step.send_event (which is a step.run underneath)
    SLEEP = "sleep"
    WAIT_FOR_EVENT = "wait_for_event"
    INVOKE = "invoke"
    AI = "ai"
    WAIT_FOR_SIGNAL = "wait_for_signal"
    UNKNOWN = "unknown"  # the trace did not say (a failed step's span carries no step op)


_KIND_OF_OPCODE = {
    server_lib.Opcode.STEP_RUN: StepKind.RUN,
    server_lib.Opcode.PLANNED: StepKind.RUN,
    server_lib.Opcode.STEP_ERROR: StepKind.RUN,
    server_lib.Opcode.STEP_FAILED: StepKind.RUN,
    server_lib.Opcode.SLEEP: StepKind.SLEEP,
    server_lib.Opcode.WAIT_FOR_EVENT: StepKind.WAIT_FOR_EVENT,
    server_lib.Opcode.INVOKE: StepKind.INVOKE,
    server_lib.Opcode.AI_GATEWAY: StepKind.AI,
}


class RecordedError(BaseModel):
    """A step that failed for good; the code received it as ``inngest.StepError``."""

    name: str = "Error"
    message: str = ""
    stack: str | None = None


class RecordedStep(BaseModel):
    id: str  # the step ID as written in code, e.g. "fetch-profile"
    hashed_id: str  # what Inngest keys the memoized output by (SHA-1 of "id" or "id:n")
    kind: StepKind
    status: str  # COMPLETED or FAILED
    output: Any = None  # step.run's return value, the event a wait received, None for a sleep
    error: RecordedError | None = None

    @property
    def label(self) -> str:
        """The step as a reader knows it: 'fetch' or, for a reused ID, 'fetch' (call 2)."""
        call = _call_index(self.id, self.hashed_id)
        return f"'{self.id}'" if call in (None, 0) else f"'{self.id}' (call {call + 1})"


def _call_index(step_id: str, hashed_id: str, limit: int = 1000) -> int | None:
    """Which call of a reused step ID ``hashed_id`` is (0 for the first), None if unknown."""
    for index in range(limit):
        if transforms.hash_step_id(step_id if index == 0 else f"{step_id}:{index}") == hashed_id:
            return index
    return None


class History(BaseModel):
    """A run's step history: what a replay answers the new code's steps with."""

    format: int = FORMAT_VERSION
    function_id: str  # the function's full ID (slug), e.g. "my-app-checkout"
    run_id: str
    status: str  # the run's status when it was recorded (RUNNING for a run in flight)
    events: list[dict[str, Any]]  # the triggering event(s): {"name", "data", "id", "ts"}
    steps: list[RecordedStep]  # completed or failed steps, in the order they finished
    output: Any = None  # the run's output, once it finished
    recorded_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    recorded_from: str | None = None  # the dev server it was read from

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def save(self, path: Path | str) -> Path:
        """Write the history as a JSON fixture (pretty-printed, stable for code review)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path | str) -> History:
        """Read a fixture written by :meth:`save`; ValueError naming the file if it is not one."""
        path = Path(path)
        try:
            history = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ValueError(f"{path} is not a readable run history: {exc}") from exc
        if history.format != FORMAT_VERSION:
            raise ValueError(f"{path}: history format {history.format}, expected {FORMAT_VERSION}")
        return history


# --- replaying it --------------------------------------------------------------------------------
class ProblemKind(StrEnum):
    UNRECORDED_STEP = "unrecorded-step"  # reached, but no output recorded: new or renamed
    NOT_REACHED = "not-reached"  # recorded, but the code finished without it: removed or renamed
    REORDERED = "reordered"  # recorded, reached in another order
    KIND_CHANGED = "kind-changed"  # same step ID, another kind of step (run -> sleep ...)
    OUTPUT_REJECTED = "output-rejected"  # the code failed on a recorded step output
    EVENT_REJECTED = "event-rejected"  # the code failed on the recorded event, before any step
    FAILED = "failed"  # the code failed where the recorded run did not


@dataclass(frozen=True)
class ReplayProblem:
    kind: ProblemKind
    step: str | None  # the step the problem is about (its ID as written in code)
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@dataclass
class ReplayReport:
    function_id: str
    history_run_id: str
    recorded_steps: int
    reached: list[str] = field(default_factory=list)  # steps answered from history, in order
    problems: list[ReplayProblem] = field(default_factory=list)
    allowed: frozenset[ProblemKind] = frozenset()
    completed: bool = False  # the code ran to its end on the recorded history
    output: Any = None  # what it returned then
    notes: list[str] = field(default_factory=list)  # facts that are not problems

    @property
    def ok(self) -> bool:
        """True when no problem (other than the kinds explicitly allowed) was found."""
        return not self.blocking

    @property
    def blocking(self) -> list[ReplayProblem]:
        return [p for p in self.problems if p.kind not in self.allowed]

    def summary(self) -> str:
        head = (
            f"replay of run {self.history_run_id} ({self.recorded_steps} recorded steps) "
            f"against {self.function_id}: "
        )
        count = len(self.blocking)
        head += "compatible" if self.ok else f"{count} incompatibilit{'y' if count == 1 else 'ies'}"
        lines = [head]
        lines += [f"  ✘ {p}" for p in self.blocking]
        lines += [f"  (allowed) {p}" for p in self.problems if p.kind in self.allowed]
        lines += [f"  · {note}" for note in self.notes]
        return "\n".join(lines)

    def assert_compatible(self) -> None:
        """Raise :class:`ReplayError` (an AssertionError, for test runners) unless ``ok``."""
        if not self.ok:
            raise ReplayError(self.summary())


class ReplayError(AssertionError):
    """New code is incompatible with a recorded run; the message names each step."""


def replay(
    function: inngest.Function[Any],
    history: History,
    event: inngest.Event | list[inngest.Event] | None = None,
    *,
    serializer: inngest.Serializer | None = None,
    allow: Collection[ProblemKind | str] = (),
) -> ReplayReport:
    """Run ``function``'s code against ``history`` in memory and report every incompatibility.

    ``event`` replaces the recorded triggering event (e.g. to try an old payload on new code).
    ``serializer`` is the one your client uses to turn step outputs back into objects (those
    with ``output_type=``); default: ``inngest.PydanticSerializer()``. ``allow`` lists problem
    kinds you accept on purpose (e.g. ``{"reordered"}``): they are still reported, but do not
    make the report fail.
    """
    events = _events(history, event)
    client = mocked.Inngest(
        app_id="replay",
        is_production=False,
        serializer=serializer or inngest.PydanticSerializer(),
    )
    report = ReplayReport(
        function_id=function.id,
        history_run_id=history.run_id,
        recorded_steps=len(history.steps),
        allowed=frozenset(ProblemKind(k) for k in allow),
    )
    if history.function_id and history.function_id != function.id:
        report.notes.append(
            f"the history was recorded from {history.function_id}, replayed on {function.id}"
        )
    position = {step.hashed_id: index for index, step in enumerate(history.steps)}
    memos: dict[str, object] = {}
    consumed: list[int] = []  # history positions answered, in the order the code reached them
    loop = asyncio.new_event_loop()
    try:
        # Each call runs the code from the top with the outputs answered so far, as Inngest
        # does on every request, and shows the next step(s) it needs: one more per call.
        for _ in range(len(history.steps) + 2):
            result, looked_up = _call(function, events, memos, client, loop)
            if result.error is not None:
                _failure(report, history, result.error, looked_up, consumed)
                return report
            if result.multi is None:
                report.completed = True
                report.output = result.output
                _unreached(report, history, consumed)
                _compare_result(report, history)
                return report
            # Steps planned together (ctx.group.parallel) may finish in any order among
            # themselves, so order is only checked against the steps reached before them.
            before = list(consumed)
            for info in [r.step for r in result.multi if r.step is not None]:
                index = position.get(info.id)
                if index is None:
                    _unrecorded(report, history, info, consumed)
                    return report
                recorded = history.steps[index]
                _compare(report, history, recorded, info, index, before)
                memos[info.id] = _memo(recorded)
                consumed.append(index)
                report.reached.append(recorded.id)
        raise RuntimeError("the replay did not end: the code keeps asking for answered steps")
    finally:
        loop.close()


def _events(
    history: History, event: inngest.Event | list[inngest.Event] | None
) -> list[inngest.Event]:
    if event is not None:
        return event if isinstance(event, list) else [event]
    if not history.events:
        raise ValueError(f"the history of run {history.run_id} has no triggering event")
    return [inngest.Event.model_validate(e) for e in history.events]


def _memo(step: RecordedStep) -> object:
    # Wrapped as Inngest sends memoized steps: {"data": …} or {"error": …}. (A bare value could
    # be mistaken for the wrapper, or a string for JSON, by the SDK's parser.)
    if step.error is not None:
        return {"error": step.error.model_dump()}
    return {"data": step.output}


class _WatchedMemos(step_lib.StepMemos):
    """The SDK's memo store, noting which step IDs the code looks up, in order."""

    def __init__(self, memos: dict[str, step_lib.base.Output]) -> None:
        super().__init__(memos)
        self.looked_up: list[tuple[str, bool]] = []  # (hashed ID, answered from history)

    def pop(self, hashed_id: str) -> Any:
        memo = super().pop(hashed_id)
        self.looked_up.append((hashed_id, not isinstance(memo, sdk_types.EmptySentinel)))
        return memo


def _call(
    function: inngest.Function[Any],
    events: list[inngest.Event],
    memos: dict[str, object],
    client: mocked.Inngest,
    loop: asyncio.AbstractEventLoop,
) -> tuple[execution_lib.CallResult, list[tuple[str, bool]]]:
    """One request of the run: the code from the top, with ``memos`` as the run's state."""
    request = server_lib.ServerRequest(
        ctx=server_lib.ServerRequestCtx(
            attempt=0,
            disable_immediate_execution=True,  # plan new steps instead of running them
            run_id="replay",
            stack=server_lib.ServerRequestCtxStack(stack=list(memos)),
        ),
        event=events[0],
        events=events,
        steps=dict(memos),
        use_api=False,
    )
    timings = net.ServerTimings()
    middleware = middleware_lib.MiddlewareManager.from_client(client, {}, timings)
    watched = _WatchedMemos.from_raw(dict(memos))
    assert isinstance(watched, _WatchedMemos)
    common: dict[str, Any] = {
        "attempt": 0, "event": events[0], "events": events, "job_id": None,
        "logger": unittest.mock.Mock(), "request_id": None, "run_id": "replay",
    }  # fmt: skip
    if function.is_handler_async:
        execution = execution_lib.ExecutionV0(watched, middleware, request, None, timings)
        ctx = execution_lib.Context(
            **common,
            group=step_lib.Group(),
            step=step_lib.Step(client, execution, middleware, step_lib.StepIDCounter(), None),
        )
        result = loop.run_until_complete(function.call(client, ctx, function.id, middleware))
    else:
        execution_sync = execution_lib.ExecutionV0Sync(watched, middleware, request, None, timings)
        ctx_sync = execution_lib.ContextSync(
            **common,
            group=step_lib.GroupSync(),
            step=step_lib.StepSync(
                client, execution_sync, middleware, step_lib.StepIDCounter(), None
            ),
        )
        result = function.call_sync(client, ctx_sync, function.id, middleware)
    # A step that failed inside the code (not a recorded error) surfaces as a step response.
    if result.multi:
        failed = [r for r in result.multi if r.error is not None]
        if failed:
            result = execution_lib.CallResult(failed[0].error)
    return result, watched.looked_up


def _compare(
    report: ReplayReport,
    history: History,
    recorded: RecordedStep,
    info: step_lib.StepInfo,
    index: int,
    before: list[int],
) -> None:
    kind = _KIND_OF_OPCODE.get(info.op, StepKind.UNKNOWN)
    if StepKind.UNKNOWN not in (kind, recorded.kind) and kind is not recorded.kind:
        report.problems.append(
            ReplayProblem(
                ProblemKind.KIND_CHANGED,
                recorded.id,
                f"step {recorded.label} was a {recorded.kind} step in the recorded run and is a "
                f"{kind} step in the new code",
            )
        )
    # Reached after a step that the recorded run only reached later: the order changed.
    overtaken = [history.steps[i] for i in before if i > index]
    if overtaken:
        report.problems.append(
            ReplayProblem(
                ProblemKind.REORDERED,
                recorded.id,
                f"step {recorded.label} is now reached after "
                f"{', '.join(s.label for s in overtaken)}; the recorded run reached it before "
                f"(recorded position {index + 1})",
            )
        )


def _unrecorded(
    report: ReplayReport, history: History, info: step_lib.StepInfo, consumed: list[int]
) -> None:
    name = info.display_name
    pending = [s for i, s in enumerate(history.steps) if i not in consumed]
    if pending:
        message = (
            f"step '{name}' has no recorded output: it is new, or renamed (the recorded run "
            f"had {pending[0].label} here, which the new code has not reached). A run in flight "
            f"would run '{name}' as new work"
        )
        if len(pending) > 1:
            message += f"; {len(pending) - 1} later recorded step(s) were not checked"
    elif history.finished:
        message = (
            f"step '{name}' was added after the last recorded step: runs in flight will run it "
            "as new work"
        )
    else:
        report.notes.append(
            f"the recorded history ends here; the run in flight would go on with step '{name}'"
        )
        report.completed = True
        return
    report.problems.append(ReplayProblem(ProblemKind.UNRECORDED_STEP, name, message))


def _unreached(report: ReplayReport, history: History, consumed: list[int]) -> None:
    for index, step in enumerate(history.steps):
        if index not in consumed:
            report.problems.append(
                ReplayProblem(
                    ProblemKind.NOT_REACHED,
                    step.id,
                    f"recorded step {step.label} (position {index + 1}) is never reached by the "
                    "new code: it was removed or renamed, and its recorded output is dropped",
                )
            )


def _compare_result(report: ReplayReport, history: History) -> None:
    """A changed result is not a replay problem (later steps may differ on purpose), but callers
    of the function (``step.invoke``) see it: say so."""
    if history.status != "COMPLETED":
        return
    replayed = json.loads(json.dumps(report.output, default=str))
    if replayed == history.output:
        return
    if isinstance(replayed, dict) and isinstance(history.output, dict):
        added = sorted(set(replayed) - set(history.output))
        removed = sorted(set(history.output) - set(replayed))
        if added or removed:
            report.notes.append(
                f"the result's keys changed: added {added}, removed {removed} (callers that "
                "invoke this function see the new shape)"
            )
            return
    report.notes.append(
        f"the result differs from the recorded run's: {_short(replayed)} instead of "
        f"{_short(history.output)}"
    )


def _failure(
    report: ReplayReport,
    history: History,
    error: Exception,
    looked_up: list[tuple[str, bool]],
    consumed: list[int],
) -> None:
    what = _short(f"{type(error).__name__}: {' '.join(str(error).split())}", 300)
    answered = [hashed for hashed, found in looked_up if found]
    by_hash = {s.hashed_id: s for s in history.steps}
    if history.status == "FAILED" and len(consumed) == len(history.steps):
        report.notes.append(f"the code fails as the recorded run did: {what}")
        return
    if not answered:
        report.problems.append(
            ReplayProblem(
                ProblemKind.EVENT_REJECTED,
                None,
                f"the new code fails before its first step, on the recorded event: {what}",
            )
        )
        return
    step = by_hash[answered[-1]]
    given = (
        f"its recorded output {_short(step.output)}"
        if step.error is None
        else f"its recorded error {step.error.name}: {_short(step.error.message)}"
    )
    report.problems.append(
        ReplayProblem(
            ProblemKind.OUTPUT_REJECTED,
            step.id,
            f"the new code fails after step {step.label} returned {given}: {what}",
        )
    )


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- command line --------------------------------------------------------------------------------
def function_at(spec: str) -> inngest.Function[Any]:
    """``path/to/module.py:attribute`` -> the Inngest function defined there (the file is
    imported by path, so its name may start with a digit)."""
    path_text, _, attribute = spec.rpartition(":")
    if not path_text or not attribute:
        raise ValueError(f"expected path/to/module.py:function_attribute, got {spec!r}")
    path = Path(path_text).resolve()
    name = path.stem if path.stem.isidentifier() else f"script_{path.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec_ = importlib.util.spec_from_file_location(name, path)
        if spec_ is None or spec_.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec_)
        sys.modules[name] = module
        spec_.loader.exec_module(module)
    function = getattr(module, attribute, None)
    if not isinstance(function, inngest.Function):
        raise ValueError(f"{path_text} has no Inngest function called {attribute!r}")
    return function


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m patterns.history_replay",
        description="Replay recorded run histories against new code. Exit codes: 0 compatible, "
        "1 an incompatibility, 2 bad input.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="replay histories against a function's code")
    check.add_argument("function", help="path/to/module.py:function_attribute")
    check.add_argument("histories", type=Path, nargs="+")
    check.add_argument(
        "--allow", action="append", default=[], choices=[k.value for k in ProblemKind]
    )
    args = parser.parse_args(argv)
    try:
        function = function_at(args.function)
        failed = 0
        for path in args.histories:
            report = replay(function, History.load(path), allow=args.allow)
            print(f"{path}: {report.summary()}")
            failed += not report.ok
        return 1 if failed else 0
    except (ValueError, LookupError, ImportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
