"""An agent loop written with the SDK: each model call a step, each tool call a step.

Problem: the Python SDK has no agent framework (Inngest's AgentKit is TypeScript only). An agent
loop written as plain code loses its work on a crash or a retry: every model call and every tool
call is made again, paid for again, and may answer differently the second time.

The pattern: each model turn is a ``step.run`` whose output is the assistant message, and each
tool call the model asks for is a ``step.run`` named after the tool call's ID, which comes from
the memoized model reply and is therefore the same on every re-entry. A crash or a retry resumes
the loop where it was: finished turns and tool calls are answered from memoized state. A tool
that fails on every retry does not fail the run: its error goes back to the model as the tool's
result, so the model can answer without it or try another way.

When to use it: a tool-using agent on a chat-completions style API (OpenAI's, or any model
served behind the same message shapes), where a turn's cost or non-determinism matters.

Limits: messages must be JSON values (they are step outputs and step arguments); every turn
resends the whole conversation, and each step's output counts against Inngest's step output
size limit, so long conversations need trimming or summarising. A run has a maximum number of
steps, which ``max_turns`` and the tools per turn must stay under. Tool results become model
input: keep them small and free of secrets. Streaming a turn's tokens to a user is not covered.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import inngest

Message = dict[str, Any]  # a chat message as the API takes it: {"role": ..., "content": ...}
ModelCall = Callable[[list[Message]], Awaitable[Message]]  # messages -> the assistant message
Tool = Callable[[dict[str, Any]], Awaitable[Any]]  # the call's JSON arguments -> its result


class AgentGaveUp(inngest.NonRetriableError):
    """The model did not answer within ``max_turns``; retrying would only spend more turns."""


@dataclass
class AgentAnswer:
    answer: str | None  # the model's final message content
    turns: int  # model calls made
    tools_used: list[str] = field(default_factory=list)  # tool names, in the order called


async def run_agent(
    ctx: inngest.Context,
    call_model: ModelCall,
    tools: Mapping[str, Tool],
    messages: list[Message],
    *,
    max_turns: int,
) -> AgentAnswer:
    """Call the model (step ``model-turn-N``) until it answers without asking for a tool; run
    each tool it asks for as step ``tool-<name>-<call id>`` and hand the result back to it.
    ``messages`` is the conversation so far (system and user messages); it is extended in
    place. Raises :class:`AgentGaveUp` after ``max_turns`` model calls without an answer."""
    used: list[str] = []
    for turn in range(max_turns):
        reply = await ctx.step.run(f"model-turn-{turn}", call_model, messages)
        messages.append(reply)
        calls = reply.get("tool_calls") or []
        if not calls:
            return AgentAnswer(answer=reply.get("content"), turns=turn + 1, tools_used=used)
        for call in calls:
            name, arguments = call["function"]["name"], json.loads(call["function"]["arguments"])
            used.append(name)
            result: Any
            tool = tools.get(name)
            if tool is None:
                result = {"error": f"there is no tool called {name!r}"}
            else:
                try:
                    # The call ID comes from the memoized model reply: stable on every re-entry.
                    result = await ctx.step.run(f"tool-{name}-{call['id']}", tool, arguments)
                except inngest.StepError as error:
                    # The tool failed on every retry: tell the model instead of failing the run.
                    result = {"error": str(error)}
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}
            )
    raise AgentGaveUp(f"no answer after {max_turns} model turns")
