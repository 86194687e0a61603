"""Every pattern the report rates links the module a reader copies, and that module is the code
the script ran: the rating's module is the file of code the script imports from patterns/."""

from __future__ import annotations

import pytest
from rubric_reach import committed_evidence, rate_or_none

import serve
from conftest import ROOT

RATED = {  # item -> (script, the pattern's module)
    "RT-02": ("02_rt_retry_timeout.py", "patterns/step_deadline.py"),
    "RT-03": ("02_rt_retry_timeout.py", "patterns/circuit_breaker.py"),
    "RT-04": ("02_rt_retry_timeout.py", "patterns/chunked_steps.py"),
    "SG-04": ("04_sg_signals_events.py", "patterns/published_state.py"),
    "VR-02": ("05_vr_versioning.py", "patterns/history_replay.py"),
    "VR-03": ("05_vr_versioning.py", "patterns/cutover.py"),
    "OB-04": ("09_ob_observability.py", "patterns/otel_tracing.py"),
    "OB-06": ("09_ob_observability.py", "patterns/log_context.py"),
    "DX-04": ("10_dx_developer_experience.py", "patterns/configured_durations.py"),
    "DX-07": ("10_dx_developer_experience.py", "patterns/history_replay.py"),
    "AI-05": ("11_ai_agent_integration.py", "patterns/agent_loop.py"),
}


@pytest.mark.parametrize("item", sorted(RATED))
def test_the_rated_pattern_links_the_module_the_script_uses(item: str) -> None:
    script, module = RATED[item]
    assert (ROOT / module).is_file()
    loaded = serve.load_script(ROOT / script)
    results = ROOT / "results" / script.replace(".py", ".json")
    if not results.exists():
        pytest.skip(f"no committed results for {script}")
    evidence = committed_evidence(results).get(item)
    if evidence is None:
        pytest.skip(f"{item} has no rated evidence in {results.name}")
    rating = rate_or_none(loaded, item, evidence)
    assert rating is not None and rating.pattern is not None
    assert rating.pattern.module == module
    dotted = module.removesuffix(".py").replace("/", ".")
    used = {getattr(v, "__module__", None) for v in vars(loaded).values()}
    assert dotted in used, f"{script} does not use {dotted}"


def test_every_pattern_module_is_rated_under_an_item() -> None:
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "patterns").glob("[!_]*.py")}
    assert modules == {module for _, module in RATED.values()}
