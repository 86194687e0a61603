"""When each request of a run spent its time in the SDK, from the SDK's middleware hooks.

Inngest runs a function as a series of HTTP requests: each replays the memoized steps, executes
one new step (or returns), and answers. :class:`RequestTimeline` is middleware that stamps four
moments of every request in this process (wall clock, seconds):

* ``entered``: the SDK has parsed the request and is about to call the function
  (``transform_input``);
* ``new_code``: replay of memoized steps is over and new code starts (``before_execution``;
  None when the request only replayed, e.g. a targeted parallel step);
* ``output``: the step or the function produced its result or error (``transform_output``);
* ``responded``: the SDK is about to send its answer (``before_response``).

The time between one request's ``responded`` and the next one's ``entered`` is spent outside the
SDK: in the HTTP round trip and in the dev server (its queue, its tick). Only requests served by
this process are seen, so items that use it serve the app in-process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import inngest


@dataclass
class RequestTiming:
    run_id: str
    event_id: str
    function_id: str
    attempt: int
    memoized: int  # steps replayed from memoized state in this request
    entered: float
    new_code: float | None = None
    output: float | None = None
    responded: float | None = None
    step_id: str | None = None  # the step this request executed (None: the function returned)
    op: str | None = None
    error: str | None = None


class RequestTimeline:
    """Collects :class:`RequestTiming` per request; thread-safe, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RequestTiming] = []

    def clear(self) -> None:
        with self._lock:
            self._requests = []

    def requests(self, run_id: str | None = None) -> list[RequestTiming]:
        """The finished requests (of one run, or all), in the order they were entered."""
        with self._lock:
            chosen = [r for r in self._requests if run_id is None or r.run_id == run_id]
        return sorted((r for r in chosen if r.responded is not None), key=lambda r: r.entered)

    def run_ids(self) -> set[str]:
        with self._lock:
            return {r.run_id for r in self._requests}

    def run_of(self, event_id: str) -> str | None:
        """The run that event ``event_id`` started, once its first request was seen."""
        with self._lock:
            return next((r.run_id for r in self._requests if r.event_id == event_id), None)

    def returned(self, run_id: str) -> bool:
        """Whether the run's function has returned: a finished request that ran no step and
        raised nothing."""
        return any(r.step_id is None and r.error is None for r in self.requests(run_id))

    def returned_runs(self) -> int:
        """How many runs have returned (see :meth:`returned`), in one pass over the requests:
        cheap enough to poll while a burst of a thousand runs is in flight in this process."""
        with self._lock:
            return len(
                {
                    r.run_id
                    for r in self._requests
                    if r.responded is not None and r.step_id is None and r.error is None
                }
            )

    def wait(self, condition: Callable[[], bool], timeout: float, poll: float = 0.005) -> bool:
        """Poll ``condition`` (cheap: memory only, no load on the dev server) until it holds;
        False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    def _add(self, timing: RequestTiming) -> None:
        with self._lock:
            self._requests.append(timing)

    def middleware(self) -> Any:
        """The middleware class to put in ``create_function(middleware=[…])``."""
        timeline = self

        class TimelineMiddleware(inngest.Middleware):
            def __init__(self, client: inngest.Inngest, raw_request: object) -> None:
                super().__init__(client, raw_request)
                self._timing: RequestTiming | None = None

            async def transform_input(
                self,
                ctx: inngest.Context | inngest.ContextSync,
                function: inngest.Function[Any],
                steps: inngest.StepMemos,
            ) -> None:
                self._timing = RequestTiming(
                    run_id=ctx.run_id,
                    event_id=ctx.event.id or "",
                    function_id=function.id,
                    attempt=ctx.attempt,
                    memoized=steps.size,
                    entered=time.time(),
                )
                timeline._add(self._timing)

            async def before_execution(self) -> None:
                if self._timing is not None:
                    self._timing.new_code = time.time()

            async def transform_output(self, result: inngest.TransformOutputResult) -> None:
                if self._timing is not None:
                    self._timing.output = time.time()
                    if result.step is not None:
                        self._timing.step_id = result.step.id
                        self._timing.op = result.step.op.value
                    if result.error is not None:
                        self._timing.error = str(result.error)[:200]

            async def before_response(self) -> None:
                if self._timing is not None:
                    self._timing.responded = time.time()

        return TimelineMiddleware
