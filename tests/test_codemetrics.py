"""Code metrics for DX-01/DX-06: function patterns from source, mypy reveal checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.probing.codemetrics import (
    check_types,
    function_patterns,
    module_sdk_names,
    mypy_available,
    program_size,
    readme_program,
    sdk_modules_named,
    summarize,
)

SOURCE = textwrap.dedent("""
    import inngest

    client = inngest.Inngest(app_id="x")


    @client.create_function(fn_id="a", trigger=inngest.TriggerEvent(event="e"), retries=1)
    async def first(ctx: inngest.Context) -> str:
        await ctx.step.sleep("nap", 1000)
        reply = await ctx.step.ai.infer("ask", adapter=None, body={})
        return str(ctx.event.data) + str(reply)


    def not_a_function() -> None:
        pass


    @client.create_function(fn_id="b", trigger=inngest.TriggerCron(cron="* * * * *"))
    async def second(context: inngest.Context) -> None:
        await context.group.parallel(())
""")


def test_patterns_are_the_decorated_functions_with_their_sdk_names(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(SOURCE)
    first, second = function_patterns([path])
    assert (first.name, first.lines) == ("first", 5)
    assert first.sdk_names == {
        "create_function(fn_id)", "create_function(trigger)", "create_function(retries)",
        "inngest.TriggerEvent", "inngest.Context", "step.sleep", "step.ai.infer", "ctx.event",
    }  # fmt: skip
    assert "group.parallel" in second.sdk_names  # whatever the context parameter is called
    summary = summarize([first, second])
    assert summary.functions == 2 and summary.max_lines == 5
    assert summary.names == first.sdk_names | second.sdk_names


def test_summarize_needs_functions() -> None:
    with pytest.raises(ValueError, match="no Inngest functions"):
        summarize([])


def test_module_names_include_the_client_and_serving() -> None:
    names = module_sdk_names(SOURCE + "\ninngest.fast_api.serve(None, client, [first])\n")
    assert {"inngest.Inngest", "inngest.fast_api", "step.sleep"} <= names


@pytest.mark.skipif(not mypy_available(), reason="mypy is not installed")
def test_check_types_reports_revealed_types_and_errors(tmp_path: Path) -> None:
    result = check_types("x: int = 1\nreveal_type(x)\ny: str = x\n", tmp_path)
    assert result.revealed == {2: "int"}
    assert len(result.errors) == 1 and result.errors[0].startswith("line 3:")


def test_sdk_modules_are_found_on_disk_without_importing() -> None:
    assert "inngest.experimental.mocked" in sdk_modules_named("mocked")
    assert sdk_modules_named("no-such-module-name") == []
    with pytest.raises(LookupError):
        sdk_modules_named("x", package="no_such_package_here")


def test_program_size_counts_non_blank_lines_and_sdk_names() -> None:
    source = "import inngest\n\nclient = inngest.Inngest(app_id='a')\n"
    size = program_size(source)
    assert size.lines == 2
    assert size.sdk_names == {"inngest.Inngest"}


def test_the_installed_sdk_readme_has_a_complete_program() -> None:
    program = readme_program()
    assert program is not None and "create_function" in program and ".serve(" in program
    assert program_size(program).lines > 5
