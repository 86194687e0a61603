"""AI — AI / agent integration: model calls, agents and humans inside durable functions.

Items AI-01 … AI-06. The functions call a chat model with the real ``openai`` client. By default
that model is a local fake (harness/probing/fake_model.py) the probe serves on a free port:
its answers are random and it counts its calls, so memoization can be proven. Set
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` (and optionally ``OPENAI_MODEL``) to run the same
code against a real provider (README, "The AI items and a real model"). Run
``python 11_ai_agent_integration.py --help`` for options.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import pkgutil
import re
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, cast

import inngest
import openai
from inngest.experimental import ai, realtime
from openai import omit
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import BaseModel

import serve
from common import (
    Category,
    Evidence,
    PatternRating,
    Probe,
    Rating,
    Suite,
    inngest_client,
    pattern_module,
    side_effects,
    t,
)
from harness.probing import fake_model
from harness.probing.codemetrics import sdk_modules_named
from harness.probing.fake_model import ModelUnderTest, model_endpoint, serve_model
from harness.probing.realtime import Received, Subscriber
from patterns.agent_loop import Message, run_agent

suite = Suite(__file__, Category.AI, environment=fake_model.ENV_CHECKS)


# ─── the model, as the functions call it ───────────────────────────────────────────────────────
AI_STEP_DOCS = (
    "https://www.inngest.com/docs/features/inngest-functions/steps-workflows/step-ai-orchestration"
)


def chat_client() -> openai.AsyncOpenAI:
    endpoint = model_endpoint()
    # Inngest retries the step; the client's own retries would multiply the calls one attempt
    # makes and hide failures from Inngest.
    return openai.AsyncOpenAI(
        base_url=endpoint.base_url, api_key=endpoint.api_key, max_retries=0, timeout=60
    )


async def ask_model(prompt: str) -> str:
    """One chat completion; the answer's text."""
    async with chat_client() as client:
        completion = await client.chat.completions.create(
            model=model_endpoint().model,
            messages=[{"role": "user", "content": prompt}],
            temperature=1.0,
        )
    return completion.choices[0].message.content or ""


def model_calls(probe: Probe, key: str = "model-call") -> int:
    return probe.effects(key)


def fake_calls(model: ModelUnderTest) -> int | None:
    """Calls the local fake model answered; None against a real provider (not observable)."""
    return model.fake.call_count if model.fake else None


# ═══ AI-01 LLM call as a step ═══════════════════════════════════════════════════════════════════
# A support answer drafted by the model, then posted to a helpdesk that times out twice. The
# draft is a step: the retries of the later step must not call the model again. The same flow
# with step.ai.infer, where the dev server itself calls the model.


class TicketOpened(BaseModel):
    ticket_id: str
    question: str


@inngest_client.create_function(
    fn_id="ai01-answer-ticket",
    trigger=inngest.TriggerEvent(event="ai01/ticket.opened"),
    retries=3,
)
async def answer_ticket(ctx: inngest.Context) -> dict[str, str]:
    ticket = TicketOpened.model_validate(ctx.event.data)

    async def draft_answer() -> str:
        side_effects.executed(ctx.event, "model-call")
        return await ask_model(f"Draft a short, friendly answer to: {ticket.question}")

    async def post_answer(answer: str) -> str:
        # The helpdesk times out twice before it accepts the post.
        if side_effects.executed(ctx.event, "post-answer", answer) < 3:
            raise TimeoutError("helpdesk API timed out")
        return f"posted to {ticket.ticket_id}"

    answer = await ctx.step.run("draft-answer", draft_answer)
    receipt = await ctx.step.run("post-answer", post_answer, answer)
    return {"answer": answer, "receipt": receipt}


def completion_text(response: Mapping[str, object]) -> str:
    """The answer in an OpenAI-format chat completion (what step.ai.infer returns)."""
    return ChatCompletion.model_validate(response).choices[0].message.content or ""


@inngest_client.create_function(
    fn_id="ai01-answer-ticket-with-infer",
    trigger=inngest.TriggerEvent(event="ai01/ticket-infer.opened"),
    retries=3,
)
async def answer_ticket_with_infer(ctx: inngest.Context) -> dict[str, str]:
    ticket = TicketOpened.model_validate(ctx.event.data)
    endpoint = model_endpoint()
    adapter = ai.openai.Adapter(
        auth_key=endpoint.api_key, base_url=endpoint.base_url, model=endpoint.model
    )
    # The dev server (Inngest) makes this request, not the app: no app compute while it waits.
    response = await ctx.step.ai.infer(
        "draft-answer",
        adapter=adapter,
        body={"messages": [{"role": "user", "content": f"Draft an answer to: {ticket.question}"}]},
    )
    answer = completion_text(response)

    async def post_answer(text: str) -> str:
        if side_effects.executed(ctx.event, "post-answer", text) < 3:
            raise TimeoutError("helpdesk API timed out")
        return f"posted to {ticket.ticket_id}"

    receipt = await ctx.step.run("post-answer", post_answer, answer)
    return {"answer": answer, "receipt": receipt}


@suite.item("AI-01", functions=[answer_ticket, answer_ticket_with_infer], timeout=90)
def llm_call_as_step(probe: Probe) -> None:
    with serve_model() as model:
        run = probe.trigger(
            "ai01/ticket.opened",
            {"ticket_id": f"T-{probe.tag}", "question": "How do I reset my password?"},
            timeout=30 + probe.devserver.retry_allowance(2),
        )
        answer = run.output.get("answer") if isinstance(run.output, dict) else None
        posted = probe.effect_values("post-answer")
        probe.check(
            "completes-after-later-failures",
            t("the run completes after the step after the model call failed twice"),
            run.status == "COMPLETED" and probe.effects("post-answer") == 3,
            observed={"status": run.status, "post-answer attempts": probe.effects("post-answer")},
            run_ids=[run.id],
        )
        probe.check(
            "model-called-once",
            t("the model was called once, whatever failed and was retried after it"),
            model_calls(probe) == 1 and fake_calls(model) in (1, None),
            observed={
                "calls made by the step": model_calls(probe),
                "calls the model answered": fake_calls(model),
            },
            expected="1",
            run_ids=[run.id],
        )
        seen = [c.answer for c in model.fake.calls] if model.fake else None
        probe.check(
            "retries-see-memoized-answer",
            t("every retry of the later step got the model's one answer, from memoized state"),
            bool(answer) and posted == [answer] * 3 and (seen is None or seen == [answer]),
            observed={"answer": answer, "posted on each attempt": posted, "model answered": seen},
            run_ids=[run.id],
        )

        probe.new_scenario()
        before = fake_calls(model)
        run = probe.trigger(
            "ai01/ticket-infer.opened",
            {"ticket_id": f"T-{probe.tag}", "question": "Where is my invoice?"},
            timeout=30 + probe.devserver.retry_allowance(2),
        )
        answer = run.output.get("answer") if isinstance(run.output, dict) else None
        probe.check(
            "infer-completes",
            t("step.ai.infer: the dev server calls the model and the run completes"),
            run.status == "COMPLETED" and bool(answer),
            observed={"status": run.status, "output": run.output},
            run_ids=[run.id],
        )
        if model.fake and before is not None:
            infer_calls = model.fake.call_count - before
            probe.check(
                "infer-called-once",
                t("step.ai.infer: the model was called once through the later retries"),
                infer_calls == 1 and probe.effect_values("post-answer") == [answer] * 3,
                observed={
                    "calls the model answered": infer_calls,
                    "posted on each attempt": probe.effect_values("post-answer"),
                },
                run_ids=[run.id],
            )
        else:
            probe.not_run(
                "infer-called-once",
                t("step.ai.infer: the model was called once through the later retries"),
                t("the dev server calls a real provider itself; only the local fake counts calls"),
            )
    probe.document(
        "infer-offloads",
        t(
            "step.ai.infer hands the model request to Inngest, so the app does no work while "
            "it waits; available in the TypeScript and Python (v0.5+) SDKs"
        ),
        AI_STEP_DOCS,
    )


@llm_call_as_step.rubric
def _(ev: Evidence) -> Rating:
    core = ["completes-after-later-failures", "model-called-once", "retries-see-memoized-answer"]
    if not ev.passed("completes-after-later-failures"):
        return Rating(
            stars=1,
            reason=t("a model call inside a step did not survive later failures"),
            drivers=core,
        )
    if not (ev.passed("model-called-once") and ev.passed("retries-see-memoized-answer")):
        return Rating(
            stars=2,
            reason=t("later failures called the model again or saw another answer"),
            drivers=core,
        )
    if ev.failed("infer-completes") or ev.failed("infer-called-once"):
        return Rating(
            stars=4,
            reason=t(
                "a model call in step.run is memoized through later failures; step.ai.infer "
                "did not work as well"
            ),
            drivers=[*core, "infer-completes", "infer-called-once"],
        )
    return Rating(
        stars=5,
        reason=t(
            "a model call in a step runs once: later steps failed and were retried while the "
            "model answered exactly one call, also through step.ai.infer"
        ),
        drivers=[*core, "infer-completes", "infer-called-once"],
    )


# ═══ AI-02 Non-determinism handling ════════════════════════════════════════════════════════════
# The model's answer picks the branch. The function sleeps and fails once after the branch, so
# its body re-runs several times: every re-entry must follow the memoized answer.

DECISIONS = ("approve", "reject", "escalate")
AI02_RUNS = 6


class RefundRequested(BaseModel):
    request_id: str
    reason: str


def parse_decision(answer: str) -> str:
    """The model's decision, normalised; anything unexpected goes to a human."""
    word = re.sub(r"[^a-z]", "", answer.strip().lower())
    return word if word in DECISIONS else "escalate"


@inngest_client.create_function(
    fn_id="ai02-triage-refund",
    trigger=inngest.TriggerEvent(event="ai02/refund.requested"),
    retries=2,
)
async def triage_refund(ctx: inngest.Context) -> dict[str, str]:
    request = RefundRequested.model_validate(ctx.event.data)
    run_key = request.request_id

    async def classify() -> str:
        side_effects.executed(ctx.event, f"model-call:{run_key}")
        return await ask_model(
            f"A customer asks for a refund: {request.reason}. "
            f"Answer with one of: {', '.join(DECISIONS)}."
        )

    decision = parse_decision(await ctx.step.run("classify", classify))
    # Evidence only: which decision this re-entry of the body saw.
    side_effects.executed(ctx.event, f"body-saw:{run_key}", decision)

    async def act() -> str:
        side_effects.executed(ctx.event, f"branch:{run_key}", decision)
        return {"approve": "refund issued", "reject": "rejection sent"}.get(
            decision, "handed to a human"
        )

    outcome = await ctx.step.run(f"act-{decision}", act)
    await ctx.step.sleep("cool-off", timedelta(seconds=1))

    async def notify() -> str:
        if side_effects.executed(ctx.event, f"notify:{run_key}") == 1:
            raise ConnectionError("mail server unavailable")
        return f"customer told: {outcome}"

    notice = await ctx.step.run("notify-customer", notify)
    return {"decision": decision, "outcome": outcome, "notice": notice}


@suite.item("AI-02", functions=[triage_refund], timeout=90)
def non_determinism(probe: Probe) -> None:
    with serve_model() as model:
        requests = [f"R{n}-{probe.tag}" for n in range(AI02_RUNS)]
        run_ids = [
            probe.run_of(
                probe.send("ai02/refund.requested", {"request_id": r, "reason": "arrived broken"})
            )
            for r in requests
        ]
        runs = [probe.wait(r, timeout=60) for r in run_ids]
        answered = fake_calls(model)
    decisions = [r.output.get("decision") if isinstance(r.output, dict) else None for r in runs]
    per_run: dict[str, dict[str, Any]] = {
        request: {
            "decision": decision,
            "model calls": probe.effects(f"model-call:{request}"),
            "re-entries saw": probe.effect_values(f"body-saw:{request}"),
            "branches run": probe.effect_values(f"branch:{request}"),
        }
        for request, decision in zip(requests, decisions, strict=True)
    }
    probe.check(
        "runs-complete",
        t("every run completes"),
        all(r.status == "COMPLETED" for r in runs),
        observed=[r.status for r in runs],
        run_ids=run_ids,
    )
    probe.check(
        "model-called-once-per-run",
        t("each run called the model once"),
        all(v["model calls"] == 1 for v in per_run.values()) and answered in (AI02_RUNS, None),
        observed={
            "per run": {k: v["model calls"] for k, v in per_run.items()},
            "calls the model answered": answered,
        },
        run_ids=run_ids,
    )
    reentries = [len(v["re-entries saw"]) for v in per_run.values()]
    probe.measure(
        "reentries-per-run",
        statistics.median(reentries),
        "re-entries",
        t(
            "median times the body ran per run (each after a step, sleep or retry), {n} runs",
            n=AI02_RUNS,
        ),
    )
    probe.check(
        "reentries-follow-memoized-answer",
        t("every re-entry of the body saw the run's one memoized answer"),
        all(
            len(v["re-entries saw"]) >= 3 and set(v["re-entries saw"]) == {v["decision"]}
            for v in per_run.values()
        ),
        observed=per_run,
        run_ids=run_ids,
    )
    probe.check(
        "one-branch-per-run",
        t("each run took exactly one branch, the one its answer chose"),
        all(v["branches run"] == [v["decision"]] for v in per_run.values()),
        observed={k: v["branches run"] for k, v in per_run.items()},
        run_ids=run_ids,
    )
    probe.check(
        "answers-varied",
        t("the model's answers differed between runs (the test exercised non-determinism)"),
        len({d for d in decisions if d}) > 1,
        observed=decisions,
    )


@non_determinism.rubric
def _(ev: Evidence) -> Rating:
    core = ["reentries-follow-memoized-answer", "model-called-once-per-run", "one-branch-per-run"]
    if not ev.passed("runs-complete") or not ev.passed("reentries-follow-memoized-answer"):
        return Rating(
            stars=1,
            reason=t("re-entries of the body saw different answers, or runs broke"),
            drivers=["runs-complete", "reentries-follow-memoized-answer"],
        )
    if not (ev.passed("model-called-once-per-run") and ev.passed("one-branch-per-run")):
        return Rating(
            stars=2,
            reason=t("the model was called again or a second branch ran"),
            drivers=core,
        )
    if not ev.passed("answers-varied"):
        return Rating(
            stars=4,
            reason=t(
                "every re-entry followed the memoized answer, but the model answered the same "
                "each time, so the test did not show non-determinism being contained"
            ),
            drivers=[*core, "answers-varied"],
        )
    return Rating(
        stars=5,
        reason=t(
            "the model answered differently across runs, and within each run every re-entry "
            "(after steps, a sleep and a retry) followed the one memoized answer"
        ),
        drivers=[*core, "answers-varied"],
    )


# ═══ AI-03 Human in the loop ═══════════════════════════════════════════════════════════════════
# A model drafts a reply; a human approves or rejects it within a deadline, or it escalates.


class DraftRequested(BaseModel):
    draft_id: str
    review_within_s: int = 24 * 3600


class DraftReviewed(BaseModel):
    draft_id: str
    approved: bool
    note: str = ""


@inngest_client.create_function(
    fn_id="ai03-reply-with-approval",
    trigger=inngest.TriggerEvent(event="ai03/draft.requested"),
)
async def reply_with_approval(ctx: inngest.Context) -> dict[str, str]:
    request = DraftRequested.model_validate(ctx.event.data)

    async def write_draft() -> str:
        side_effects.executed(ctx.event, f"model-call:{request.draft_id}")
        return await ask_model("Write a two-sentence reply to a customer whose parcel is late.")

    draft = await ctx.step.run("write-draft", write_draft)
    review_event = await ctx.step.wait_for_event(
        "await-review",
        event="ai03/draft.reviewed",
        if_exp="async.data.draft_id == event.data.draft_id",  # this draft's review only
        timeout=timedelta(seconds=request.review_within_s),
    )
    if review_event is None:
        outcome = await ctx.step.run("escalate", _done, "escalated: no review in time")
        return {"draft": draft, "outcome": outcome}
    review = DraftReviewed.model_validate(review_event.data)
    if review.approved:
        outcome = await ctx.step.run("send-reply", _done, "sent")
    else:
        outcome = await ctx.step.run("discard-draft", _done, f"discarded: {review.note}")
    return {"draft": draft, "outcome": outcome}


async def _done(outcome: str) -> str:
    return outcome


REVIEW_WINDOW_S = 4


@suite.item("AI-03", functions=[reply_with_approval], timeout=90)
def human_in_the_loop(probe: Probe) -> None:
    drafts = {path: f"{path}-{probe.tag}" for path in ("approve", "reject", "timeout")}
    with serve_model():
        runs = {
            path: probe.run_of(
                probe.send(
                    "ai03/draft.requested",
                    {"draft_id": draft, "review_within_s": REVIEW_WINDOW_S},
                )
            )
            for path, draft in drafts.items()
        }
        for path, run_id in runs.items():
            if not probe.wait_for_step(run_id, "await-review", timeout=20):
                raise RuntimeError(f"the {path} run never started waiting for its review")
        waiting_from = time.monotonic()
        # A review for a draft nobody waits for must not resolve any of them.
        probe.send("ai03/draft.reviewed", {"draft_id": f"other-{probe.tag}", "approved": True})
        probe.send("ai03/draft.reviewed", {"draft_id": drafts["approve"], "approved": True})
        probe.send(
            "ai03/draft.reviewed",
            {"draft_id": drafts["reject"], "approved": False, "note": "too casual"},
        )
        finished = {path: probe.wait(run_id, timeout=30) for path, run_id in runs.items()}
        waited_s = time.monotonic() - waiting_from
    outcomes = {
        path: run.output.get("outcome") if isinstance(run.output, dict) else run.status
        for path, run in finished.items()
    }
    run_ids = list(runs.values())
    probe.check(
        "approve-path",
        t("an approval sends the drafted reply"),
        outcomes["approve"] == "sent",
        observed=outcomes["approve"],
        run_ids=[runs["approve"]],
    )
    probe.check(
        "reject-path",
        t("a rejection discards the draft, with the reviewer's note"),
        outcomes["reject"] == "discarded: too casual",
        observed=outcomes["reject"],
        run_ids=[runs["reject"]],
    )
    probe.check(
        "timeout-path",
        t("with no review before the deadline the draft escalates"),
        outcomes["timeout"] == "escalated: no review in time" and waited_s >= REVIEW_WINDOW_S - 1,
        observed={"outcome": outcomes["timeout"], "seconds waited": round(waited_s, 1)},
        run_ids=[runs["timeout"]],
    )
    probe.check(
        "review-matched-to-draft",
        t("each review resolved only its own draft (a stray review resolved none)"),
        outcomes
        == {
            "approve": "sent",
            "reject": "discarded: too casual",
            "timeout": "escalated: no review in time",
        },
        observed=outcomes,
        run_ids=run_ids,
    )
    probe.check(
        "draft-not-rewritten",
        t("waiting for a human did not call the model again"),
        all(probe.effects(f"model-call:{d}") == 1 for d in drafts.values()),
        observed={path: probe.effects(f"model-call:{d}") for path, d in drafts.items()},
        run_ids=run_ids,
    )


@human_in_the_loop.rubric
def _(ev: Evidence) -> Rating:
    paths = ["approve-path", "reject-path", "timeout-path"]
    broken = [p for p in paths if not ev.passed(p)]
    if len(broken) > 1:
        return Rating(stars=1, reason=t("approval paths do not work"), drivers=broken)
    if broken or not ev.passed("review-matched-to-draft"):
        return Rating(
            stars=3,
            reason=t(
                "human approval works only partly: {checks}",
                checks=", ".join(broken or ["review-matched-to-draft"]),
            ),
            drivers=[*broken, "review-matched-to-draft"],
        )
    if not ev.passed("draft-not-rewritten"):
        return Rating(
            stars=4,
            reason=t("approval paths work, but waiting re-ran the model call"),
            drivers=["draft-not-rewritten"],
        )
    return Rating(
        stars=5,
        reason=t(
            "approve, reject and timeout all work with one wait_for_event matched by draft ID, "
            "and the drafted text stays memoized while a human decides"
        ),
        drivers=[*paths, "review-matched-to-draft", "draft-not-rewritten"],
    )


# ═══ AI-04 Streaming ═══════════════════════════════════════════════════════════════════════════
# The model streams its answer; the step publishes each token to a realtime channel while it
# runs, and a subscriber (as a browser would) reads them from the dev server.

REALTIME_TOPIC = "tokens"


class AnswerRequested(BaseModel):
    answer_id: str
    drop_first_attempt: bool = False  # the connection breaks after the first attempt streamed


@functools.cache
def _publishing_client(base_url: str | None, keys: serve.ProductionKeys | None) -> inngest.Inngest:
    return serve.make_client(base_url, keys)


def app_client() -> inngest.Inngest:
    """The app's client for calls a function makes itself (here: realtime publishing).

    A real app uses the client it serves with, configured by INNGEST_DEV / INNGEST_BASE_URL
    (and, in production, INNGEST_SIGNING_KEY / INNGEST_EVENT_KEY). The suite builds its serving
    client per server, so the probe sets those variables (:func:`_app_environment`).
    """
    return _publishing_client(os.environ.get("INNGEST_BASE_URL"), serve.ProductionKeys.from_env())


@contextlib.contextmanager
def _app_environment(probe: Probe) -> Iterator[None]:
    """INNGEST_BASE_URL for the server the probe runs against, and its keys when it has them
    (a self-hosted server accepts realtime publishing only signed), restored afterwards."""
    keys = probe.devserver.app_keys()
    wanted = {
        "INNGEST_BASE_URL": probe.devserver.url,
        serve.SIGNING_KEY_ENV: keys.signing_key if keys else None,
        serve.EVENT_KEY_ENV: keys.event_key if keys else None,
    }
    previous = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def answer_channel(answer_id: str) -> str:
    return f"answer:{answer_id}"


@inngest_client.create_function(
    fn_id="ai04-stream-answer",
    trigger=inngest.TriggerEvent(event="ai04/answer.requested"),
    retries=1,
)
async def stream_answer(ctx: inngest.Context) -> dict[str, str]:
    request = AnswerRequested.model_validate(ctx.event.data)
    channel = answer_channel(request.answer_id)

    async def generate() -> str:
        side_effects.executed(ctx.event, "model-call")
        tokens: list[str] = []
        async with chat_client() as client:
            stream = await client.chat.completions.create(
                model=model_endpoint().model,
                messages=[{"role": "user", "content": "Explain durable execution in one line."}],
                stream=True,
            )
            async for chunk in stream:
                token = chunk.choices[0].delta.content if chunk.choices else None
                if not token:
                    continue
                tokens.append(token)
                # Not a step: the subscriber sees each token while this step still runs. The
                # attempt number lets a client drop a stream a retry replaces.
                await realtime.publish(
                    app_client(),
                    channel=channel,
                    topic=REALTIME_TOPIC,
                    data={"attempt": ctx.attempt, "index": len(tokens) - 1, "token": token},
                )
        await realtime.publish(
            app_client(),
            channel=channel,
            topic=REALTIME_TOPIC,
            data={"attempt": ctx.attempt, "done": True},
        )
        if request.drop_first_attempt and ctx.attempt == 0:
            raise ConnectionError("the connection dropped after streaming")
        return "".join(tokens)

    return {"text": await ctx.step.run("generate", generate)}


def _tokens(messages: list[Received], attempt: int) -> list[Received]:
    return [
        m
        for m in messages
        if isinstance(m.data, dict) and m.data.get("attempt") == attempt and "token" in m.data
    ]


def _stream_done(attempts: int) -> Callable[[list[Received]], bool]:
    def done(messages: list[Received]) -> bool:
        finished = {
            m.data.get("attempt")
            for m in messages
            if isinstance(m.data, dict) and m.data.get("done")
        }
        return len(finished) >= attempts

    return done


def _subscribe(probe: Probe, answer_id: str, attempts: int) -> Subscriber:
    token = realtime.get_subscription_token_sync(
        serve.make_client(probe.devserver.url, probe.devserver.app_keys()),
        answer_channel(answer_id),
        [REALTIME_TOPIC],
    )
    subscriber = Subscriber(probe.devserver.url, str(token["key"]), until=_stream_done(attempts))
    subscriber.start(timeout=probe.bound(10))
    return subscriber


@suite.item("AI-04", functions=[stream_answer], timeout=90)
def streaming(probe: Probe) -> None:
    with _app_environment(probe), serve_model(token_delay_s=0.1) as model:
        # 1. One answer, streamed while the step runs.
        answer_id = f"A-{probe.tag}"
        subscriber = _subscribe(probe, answer_id, attempts=1)
        try:
            sent_at = time.time()
            run = probe.trigger("ai04/answer.requested", {"answer_id": answer_id})
            subscriber.wait_for(_stream_done(1), probe.bound(10))
        finally:
            subscriber.stop()
        tokens = _tokens(subscriber.received, 0)
        text = run.output.get("text") if isinstance(run.output, dict) else None
        # When the model sent each token (the fake's clock; a real provider's is unknown).
        emitted = model.fake.calls[-1].chunk_times if model.fake and model.fake.calls else []

        # 2. The same after a retry: the step streams again.
        probe.new_scenario()
        retried_id = f"B-{probe.tag}"
        retry_subscriber = _subscribe(probe, retried_id, attempts=2)
        try:
            retried = probe.trigger(
                "ai04/answer.requested",
                {"answer_id": retried_id, "drop_first_attempt": True},
                timeout=30 + probe.devserver.retry_allowance(1),
            )
            retry_subscriber.wait_for(_stream_done(2), probe.bound(10))
        finally:
            retry_subscriber.stop()

    ended_at = run.ended_at.timestamp() if run.ended_at else None
    probe.check(
        "tokens-reach-subscriber",
        t("a subscriber receives the tokens, in order, and they make up the run's answer"),
        bool(tokens)
        and "".join(str(m.data["token"]) for m in tokens) == text
        and [m.data["index"] for m in tokens] == list(range(len(tokens))),
        observed={
            "tokens received": len(tokens),
            "run output": text,
            "subscriber error": subscriber.error,
        },
        run_ids=[run.id],
    )
    probe.check(
        "streams-while-step-runs",
        t("the first token reaches the subscriber before the run finishes"),
        bool(tokens) and ended_at is not None and tokens[0].at < ended_at,
        observed={
            "first token after send (s)": round(tokens[0].at - sent_at, 3) if tokens else None,
            "run finished after send (s)": round(ended_at - sent_at, 3) if ended_at else None,
        },
        run_ids=[run.id],
    )
    if tokens:
        probe.measure(
            "send-to-first-token-s",
            round(tokens[0].at - sent_at, 3),
            "s",
            t(
                "event sent to first token at the subscriber, one run, fake model with "
                "0.1 s between tokens"
            ),
        )
        if len(emitted) == len(tokens):
            delays = [(m.at - sent) * 1000 for m, sent in zip(tokens, emitted, strict=True)]
            probe.measure(
                "model-to-subscriber-ms",
                round(delays[0], 1),
                "ms",
                t(
                    "the model emitting the first token to the subscriber reading it (through "
                    "the app, a publish request and the dev server); over all {n} tokens: "
                    "median {median} ms, max {most} ms",
                    n=len(delays),
                    median=round(statistics.median(delays), 1),
                    most=round(max(delays), 1),
                ),
            )
        gaps = [b.at - a.at for a, b in itertools.pairwise(tokens)]
        if gaps:
            probe.measure(
                "token-gap-ms",
                round(statistics.median(gaps) * 1000, 1),
                "ms",
                t(
                    "median gap between tokens at the subscriber over {n} gaps (the model "
                    "emits one every 100 ms)",
                    n=len(gaps),
                ),
            )

    first, second = _tokens(retry_subscriber.received, 0), _tokens(retry_subscriber.received, 1)
    final = retried.output.get("text") if isinstance(retried.output, dict) else None
    probe.check(
        "retry-streams-once",
        t("a retried step's tokens reach the subscriber once (publishes are memoized)"),
        retried.status == "COMPLETED" and bool(second) and not first,
        observed={
            "attempt 0 tokens": len(first),
            "attempt 1 tokens": len(second),
            "final answer": final,
        },
        expected="only the final attempt's tokens",
        run_ids=[retried.id],
    )
    doc = " ".join((realtime.__doc__ or "").split())
    probe.check(
        "realtime-stable",
        t("the Python SDK's realtime module is a stable API"),
        not re.search(r"experimental|preview|not stable", doc, re.IGNORECASE),
        observed={"module docstring": doc[:160]},
    )
    probe.document(
        "realtime-preview",
        t(
            "Realtime is in developer preview; TypeScript has a memoized step.realtime.publish, "
            "the Python SDK only a plain publish that fires again on retry"
        ),
        "https://www.inngest.com/docs/features/realtime",
    )


@streaming.rubric
def _(ev: Evidence) -> Rating:
    if not (ev.passed("tokens-reach-subscriber") and ev.passed("streams-while-step-runs")):
        return Rating(
            stars=2,
            reason=t(
                "tokens did not reach a subscriber while the step ran: only the final "
                "result is available"
            ),
            drivers=["tokens-reach-subscriber", "streams-while-step-runs"],
        )
    if not ev.passed("realtime-stable"):
        drivers = ["tokens-reach-subscriber", "streams-while-step-runs", "realtime-stable",
                   "retry-streams-once"]  # fmt: skip
        if ev.passed("retry-streams-once"):
            return Rating(
                stars=3,
                reason=t(
                    "tokens stream through the dev server to a subscriber while the step runs, "
                    "tens of milliseconds after the model emits them; but the Python realtime "
                    "API is experimental"
                ),
                drivers=drivers,
            )
        return Rating(
            stars=3,
            reason=t(
                "tokens stream through the dev server to a subscriber while the step runs, tens "
                "of milliseconds after the model emits them; but the Python realtime API is "
                "experimental and a retried step streams its tokens again"
            ),
            drivers=drivers,
            advice=t(
                "publish an attempt number (ctx.attempt) with every chunk so clients can reset "
                "when a retry restarts the stream, and keep the final answer in the step result"
            ),
        )
    if not ev.passed("retry-streams-once"):
        return Rating(
            stars=4,
            reason=t("streaming works on a stable API, but a retry streams the tokens again"),
            drivers=["retry-streams-once"],
        )
    return Rating(
        stars=5,
        reason=t("stable streaming, once per answer even across retries"),
        drivers=["tokens-reach-subscriber", "streams-while-step-runs", "retry-streams-once"],
    )


# ═══ AI-05 Agent framework integration ═════════════════════════════════════════════════════════
# An agent loop written with the SDK (patterns/agent_loop.py): each model call a step, each tool
# call a step, so a crash or a retry resumes the loop where it was. AI-06 reuses it with tools
# that fail.

AGENT_TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look up an order's status by its ID.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "refund_policy",
            "description": "The refund policy for a product category.",
            "parameters": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": ["electronics", "clothing", "food"]}
                },
                "required": ["category"],
            },
        },
    },
]
MAX_AGENT_TURNS = 6


class SupportQuestion(BaseModel):
    question: str
    lookup_outage_attempts: int = 0  # the order service fails this many times, then recovers
    policy_outage_attempts: int = 0  # the policy service fails this many times, then recovers
    policy_service_down: bool = False  # the policy service fails for good
    all_tools_at_once: bool = False  # let the model ask for several tools in one turn


@inngest_client.create_function(
    fn_id="ai05-support-agent",
    trigger=inngest.TriggerEvent(event="ai05/question.asked"),
    retries=2,
)
async def support_agent(ctx: inngest.Context) -> dict[str, Any]:
    question = SupportQuestion.model_validate(ctx.event.data)

    async def call_model(messages: list[Message]) -> dict[str, Any]:
        side_effects.executed(ctx.event, "model-call")
        async with chat_client() as client:
            completion = await client.chat.completions.create(
                model=model_endpoint().model,
                messages=cast(list[ChatCompletionMessageParam], messages),
                tools=AGENT_TOOLS,
                parallel_tool_calls=True if question.all_tools_at_once else omit,
            )
        message = completion.choices[0].message
        # The assistant message as the next request needs it (a JSON value, so it memoizes).
        reply: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            reply["tool_calls"] = [
                call.model_dump(include={"id", "type", "function"}) for call in message.tool_calls
            ]
        return reply

    async def lookup_order(arguments: dict[str, Any]) -> dict[str, str]:
        attempt = side_effects.executed(ctx.event, "tool:lookup_order", time.time())
        if attempt <= question.lookup_outage_attempts:
            raise ConnectionError("order service unavailable")
        return {"order_id": str(arguments.get("order_id")), "status": "shipped"}

    async def refund_policy(arguments: dict[str, Any]) -> dict[str, str]:
        attempt = side_effects.executed(ctx.event, "tool:refund_policy", time.time())
        if question.policy_service_down or attempt <= question.policy_outage_attempts:
            raise ConnectionError("policy service unavailable")
        return {"category": str(arguments.get("category")), "policy": "30 days, unopened"}

    tools = {"lookup_order": lookup_order, "refund_policy": refund_policy}
    messages: list[Message] = [
        {"role": "system", "content": "You are a support agent. Use the tools, then answer."},
        {"role": "user", "content": question.question},
    ]
    done = await run_agent(ctx, call_model, tools, messages, max_turns=MAX_AGENT_TURNS)
    return {"answer": done.answer, "turns": done.turns, "tools_used": done.tools_used}


def _agent_steps(probe: Probe, run_id: str) -> tuple[list[str], list[str]]:
    """(model-turn step names, tool step names) in the run's trace."""
    names = [s.name for s in probe.api.final_trace(run_id).steps()]
    return (
        [n for n in names if n.startswith("model-turn-")],
        [n for n in names if n.startswith("tool-")],
    )


@suite.item("AI-05", functions=[support_agent], timeout=90)
def agent_framework(probe: Probe) -> None:
    with serve_model() as model:
        run = probe.trigger(
            "ai05/question.asked", {"question": "Where is order 1042, and can I return it?"}
        )
        offered = model.fake.calls[0].tools_offered if model.fake and model.fake.calls else None
        answered = fake_calls(model)
    turns, tool_steps = _agent_steps(probe, run.id)
    output = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "agent-completes",
        t("the agent loop runs to a final answer"),
        run.status == "COMPLETED" and bool(output.get("answer")),
        observed={"status": run.status, "output": run.output},
        run_ids=[run.id],
    )
    probe.check(
        "each-call-a-step",
        t("each model call and each tool call is a step of its own in the run's trace"),
        len(turns) == output.get("turns") and len(tool_steps) == len(output.get("tools_used", [])),
        observed={"model steps": turns, "tool steps": tool_steps},
        run_ids=[run.id],
    )
    probe.check(
        "model-called-once-per-turn",
        t("the model was called once per model step, tools once per tool step"),
        model_calls(probe) == len(turns)
        and answered in (len(turns), None)
        and all(probe.effects(f"tool:{n}") == 1 for n in output.get("tools_used", [])),
        observed={
            "model calls": model_calls(probe),
            "model steps": len(turns),
            "calls the model answered": answered,
            "tool executions": {
                n: probe.effects(f"tool:{n}") for n in output.get("tools_used", [])
            },
        },
        run_ids=[run.id],
    )
    probe.check(
        "tools-offered-through-openai-client",
        t("the real openai client sent the tool definitions"),
        offered is None or offered == [tool["function"]["name"] for tool in AGENT_TOOLS],
        observed=offered,
        informational=True,  # that the setup is faithful, not a property of Inngest
    )
    agent_modules = sdk_modules_named("agent")
    probe.check(
        "python-agent-framework",
        t("the Python SDK ships an agent framework (agents, tools, networks)"),
        bool(agent_modules),
        observed={
            "inngest modules named *agent*": agent_modules,
            "AI modules": [m.name for m in pkgutil.iter_modules(ai.__path__)],
        },
    )
    probe.document(
        "agentkit-typescript",
        t("AgentKit, Inngest's agent framework, is a TypeScript library"),
        "https://agentkit.inngest.com/reference/introduction",
    )
    doc = " ".join((ai.__doc__ or "").split())
    probe.check(
        "ai-module-stable",
        t("the Python SDK's AI module (step.ai.infer and its adapters) is a stable API"),
        not re.search(r"experimental|not stable", doc, re.IGNORECASE),
        observed={"module docstring": doc[:160]},
    )
    probe.document(
        "agent-loop-pattern",
        t(
            "the docs describe the agent tool loop as a pattern: every model call and tool "
            "execution a retriable step (examples in TypeScript)"
        ),
        "https://www.inngest.com/docs/ai-patterns/agent-tool-loops",
    )


def _agent_loop_pattern(ev: Evidence) -> PatternRating:
    drivers = ["agent-completes", "each-call-a-step", "model-called-once-per-turn"]
    works = all(ev.passed(k) for k in drivers)
    return PatternRating(
        module=pattern_module(run_agent),
        pattern=t("an agent loop written with the SDK: each model and tool call a step"),
        stars=4 if works else 2,
        reason=t(
            "about thirty lines of ordinary code give a durable agent: every model turn and "
            "tool call is memoized and retried on its own; you maintain the loop yourself"
        )
        if works
        else t("the hand-written agent loop did not run durably"),
        drivers=drivers,
    )


@agent_framework.rubric
def _(ev: Evidence) -> Rating:
    pattern = _agent_loop_pattern(ev)
    advice = t(
        "in Python, write the agent loop yourself with one step per model call and per tool "
        "call (as support_agent in 11_ai_agent_integration.py does), or run a framework's single "
        "calls inside step.run"
    )
    if ev.passed("python-agent-framework"):
        return Rating(
            stars=5 if pattern.stars >= 4 else 3,
            reason=t("the Python SDK ships an agent framework"),
            drivers=["python-agent-framework"],
            pattern=pattern,
        )
    if ev.passed("ai-module-stable"):
        return Rating(
            stars=3,
            reason=t(
                "no agent framework for Python (AgentKit is TypeScript only); the SDK's stable "
                "AI step and the documented loop pattern are the building blocks"
            ),
            drivers=["python-agent-framework", "ai-module-stable"],
            advice=advice,
            pattern=pattern,
        )
    return Rating(
        stars=2,
        reason=t(
            "no agent framework for Python: AgentKit is TypeScript only, and the Python SDK's "
            "AI support is the experimental step.ai.infer; agents are built by hand from steps"
        ),
        drivers=["python-agent-framework", "ai-module-stable"],
        advice=advice,
        pattern=pattern,
    )


# ═══ AI-06 Tool execution fault tolerance ══════════════════════════════════════════════════════
# The AI-05 agent with failing tools: one recovers after two failures, one fails for good.


@suite.item("AI-06", functions=[support_agent], timeout=120)
def tool_fault_tolerance(probe: Probe) -> None:
    with serve_model() as model:
        before = fake_calls(model)
        # Both tools in one turn, in order: lookup_order completes, then refund_policy fails
        # twice. Its retries re-enter the function after a tool of the same turn has finished.
        flaky = probe.trigger(
            "ai05/question.asked",
            {
                "question": "Where is order 1042, and can I return it?",
                "policy_outage_attempts": 2,
                "all_tools_at_once": True,
            },
            timeout=30 + probe.devserver.retry_allowance(2),
        )
        flaky_answered = None if before is None else (fake_calls(model) or 0) - before
        flaky_model_calls = model_calls(probe)
        lookups = probe.effect_values("tool:lookup_order")
        policies = probe.effect_values("tool:refund_policy")
        turns, tool_steps = _agent_steps(probe, flaky.id)
        trace = probe.api.final_trace(flaky.id)
        policy_attempts = [
            a.status
            for s in trace.steps()
            if s.name.startswith("tool-refund_policy")
            for a in s.children
        ]

        probe.new_scenario()
        broken = probe.trigger(
            "ai05/question.asked",
            {"question": "Can I return a jacket?", "policy_service_down": True},
        )
    first_turn = _first_tool_turn(flaky.output)
    if first_turn != ["lookup_order", "refund_policy"]:
        reason = t(
            "the model did not ask for lookup_order then refund_policy in one turn (a real model "
            "chooses its own tools)"
        )
        for key, description in (
            ("flaky-tool-retried-as-step", FLAKY_RETRIED),
            ("other-tools-not-rerun", OTHERS_NOT_RERUN),
        ):
            probe.not_run(key, description, reason)
    else:
        probe.check(
            "flaky-tool-retried-as-step",
            FLAKY_RETRIED,
            flaky.status == "COMPLETED" and len(policies) == 3,
            observed={
                "status": flaky.status,
                "refund_policy executions": len(policies),
                "attempts in the trace": policy_attempts,
            },
            expected="COMPLETED; 3 executions (2 failures, then success)",
            run_ids=[flaky.id],
        )
        probe.check(
            "other-tools-not-rerun",
            OTHERS_NOT_RERUN,
            len(lookups) == 1 and len(policies) > 1 and lookups[0] < policies[0],
            observed={
                "lookup_order executions": len(lookups),
                "lookup_order ran before refund_policy's first attempt": bool(
                    lookups and policies and lookups[0] < policies[0]
                ),
                "refund_policy attempts": len(policies),
                "tool steps": tool_steps,
            },
            expected="lookup_order once, before the refund_policy attempts that failed",
            run_ids=[flaky.id],
        )
    probe.check(
        "model-not-recalled-on-tool-retry",
        t("the tool's retries did not call the model again"),
        flaky_model_calls == len(turns) and flaky_answered in (len(turns), None),
        observed={
            "model calls": flaky_model_calls,
            "model steps": turns,
            "calls the model answered": flaky_answered,
        },
        run_ids=[flaky.id],
    )
    broken_output = broken.output if isinstance(broken.output, dict) else {}
    probe.check(
        "broken-tool-handled",
        t(
            "a tool that fails for good surfaces as a StepError the agent handles: the run "
            "still answers"
        ),
        broken.status == "COMPLETED" and bool(broken_output.get("answer")),
        observed={
            "status": broken.status,
            "output": broken.output,
            "refund_policy executions": probe.effects("tool:refund_policy"),
        },
        run_ids=[broken.id],
    )


FLAKY_RETRIED = t(
    "a tool that fails twice, after another tool of the same turn completed, is retried as its "
    "own step and the run completes"
)
OTHERS_NOT_RERUN = t(
    "a tool that had completed in the same turn did not run again while the failing tool was "
    "retried"
)


def _first_tool_turn(output: Any) -> list[str]:
    """The tools the model asked for in its first turn, in order. A turn without tool calls
    ends the loop, so in a run of two turns every tool used was asked for in the first."""
    if not isinstance(output, dict) or output.get("turns") != 2:
        return []
    return list(output.get("tools_used", []))


@tool_fault_tolerance.rubric
def _(ev: Evidence) -> Rating:
    if ev.failed("flaky-tool-retried-as-step"):
        return Rating(
            stars=1,
            reason=t("a flaky tool failed the agent's run"),
            drivers=["flaky-tool-retried-as-step"],
        )
    if not ev.passed("model-not-recalled-on-tool-retry"):
        return Rating(
            stars=2,
            reason=t("retrying a tool called the model again"),
            drivers=["model-not-recalled-on-tool-retry"],
        )
    if ev.failed("other-tools-not-rerun"):
        return Rating(
            stars=3,
            reason=t("retrying a tool re-ran a tool of the same turn that had succeeded"),
            drivers=["other-tools-not-rerun"],
        )
    if not ev.passed("broken-tool-handled"):
        return Rating(
            stars=4,
            reason=t("flaky tools are retried in isolation, but a broken tool ends the run"),
            drivers=["broken-tool-handled"],
        )
    if not (ev.passed("flaky-tool-retried-as-step") and ev.passed("other-tools-not-rerun")):
        return Rating(
            stars=4,
            reason=t("tool failures are contained, but the flaky-tool path was not exercised"),
            drivers=["flaky-tool-retried-as-step", "other-tools-not-rerun"],
        )
    return Rating(
        stars=5,
        reason=t(
            "each tool call is retried as its own step without calling the model again or "
            "re-running a tool of the same turn that had completed, and a tool that fails for "
            "good becomes a StepError the agent answers around"
        ),
        drivers=[
            "flaky-tool-retried-as-step",
            "model-not-recalled-on-tool-retry",
            "other-tools-not-rerun",
            "broken-tool-handled",
        ],
    )


if __name__ == "__main__":
    suite.main()
