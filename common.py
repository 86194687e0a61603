"""What the category scripts share: the Inngest client, the side-effect ledger, the harness API.

Scripts import from here only; the plumbing lives in the ``harness`` package behind it.
"""

from __future__ import annotations

from typing import TypeVar

from harness.errors import ProbeTimeout
from harness.i18n import Msg, t
from harness.probing import runops, timeline, timing
from harness.probing.deploy import deployment
from harness.probing.functions import IN_FLIGHT, function_records, runs_of, runs_started_by
from harness.probing.ledger import effect_key, side_effects
from harness.probing.other_app import other_app
from harness.rating.catalog import Category
from harness.rating.evidence import Evidence, PatternRating, Rating, pattern_module
from harness.rating.needs import SELF_HOSTED_NEEDS, Need
from harness.replay import record_history
from harness.servers.api import Run, RunNotFound, TraceNotReady
from harness.servers.selfhosted import SelfHostedUnavailable
from harness.suite import Probe, Suite
from serve import make_client

# Declares the functions. Only its app ID and serializer matter here: the app that serves them
# builds its own client pointed at whichever dev server the harness found (serve.make_client).
inngest_client = make_client()

T = TypeVar("T")


async def echo(value: T) -> T:
    """A step handler that returns its argument: ``await ctx.step.run("id", echo, value)``.

    Makes a value computed outside a step durable (memoized) without writing a handler for it.
    """
    return value


__all__ = [
    "IN_FLIGHT",
    "SELF_HOSTED_NEEDS",
    "Category",
    "Evidence",
    "Msg",
    "Need",
    "PatternRating",
    "Probe",
    "ProbeTimeout",
    "Rating",
    "Run",
    "RunNotFound",
    "SelfHostedUnavailable",
    "Suite",
    "TraceNotReady",
    "deployment",
    "echo",
    "effect_key",
    "function_records",
    "inngest_client",
    "make_client",
    "other_app",
    "pattern_module",
    "record_history",
    "runops",
    "runs_of",
    "runs_started_by",
    "side_effects",
    "t",
    "timeline",
    "timing",
]
