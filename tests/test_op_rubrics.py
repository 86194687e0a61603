"""OP rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

import statistics
from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def op() -> ModuleType:
    return serve.load_script(ROOT / "08_op_operations.py")


def rate(op: ModuleType, item: str, ev: Evidence) -> Rating:
    return op.suite.items[item].rate(ev)


def test_every_op_item_has_a_rubric_and_a_budget(op: ModuleType) -> None:
    assert list(op.suite.items) == [f"OP-0{n}" for n in range(1, 8)]
    for item in op.suite.items.values():
        assert item._rubric is not None, item.id
    assert sum(i.timeout for i in op.suite.items.values()) < 1200


OP01 = ["serve-model-runs", "connect-model-runs", "unsigned-rejected", "wrong-signature-rejected",
        "correct-signature-accepted", "stale-signature-rejected", "server-signed-run",
        "event-key-required"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["stale-signature-rejected"], 4),  # what Python SDK 0.5.19 does
        (["connect-model-runs"], 4),
        (["server-signed-run"], 3),
        (["event-key-required"], 3),  # anyone reaching the server can start runs
        (["unsigned-rejected"], 2),
        (["correct-signature-accepted"], 2),
        (["serve-model-runs"], 1),
    ],
)
def test_op01_deployment(op: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(op, "OP-01", evidence(OP01, failed))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers)


def test_op01_replay_finding_comes_with_advice(op: ModuleType) -> None:
    rating = rate(op, "OP-01", evidence(OP01, ["stale-signature-rejected"]))
    assert rating.advice is not None and "X-Inngest-Signature" in str(rating.advice)


OP02_CORE = ["rest-list-event-runs", "rest-get-run", "rest-list-functions", "rest-cancel-run",
             "gql-list-runs", "gql-get-run", "gql-list-apps", "gql-cancel-run", "gql-rerun",
             "v2-rerun"]  # fmt: skip
OP02_ODD = ["unknown-run-is-404", "statuses-agree", "self-hosted:statuses-agree",
            "reads-are-fresh", "output-with-final-status",
            "output-with-final-status:graphql"]  # fmt: skip
OP02_FAULTS = ["rest-cancel-run", "self-hosted:rest-cancel-run", "sleeping-run-never-final",
               "self-hosted:sleeping-run-never-final", "rest-requires-key",
               "graphql-requires-key"]  # fmt: skip
OP02 = [*OP02_CORE, *OP02_ODD, *OP02_FAULTS, "self-hosted:gql-cancel-run"]
# What inngest 1.43.0 did: the dev server's oddities, and on PostgreSQL a REST cancel that
# answers 404, a sleeping run reported COMPLETED, GraphQL mutations that need no key.
MEASURED = ["unknown-run-is-404", "statuses-agree", "self-hosted:statuses-agree",
            "reads-are-fresh", "output-with-final-status", "self-hosted:rest-cancel-run",
            "self-hosted:sleeping-run-never-final", "graphql-requires-key"]  # fmt: skip


def op02(failed: list[str], gaps: list[float] | None = None) -> Evidence:
    ev = evidence(OP02, failed)
    if gaps is not None:
        ev.measure("final-status-to-output", statistics.median(gaps), "ms", samples=gaps)
    return ev


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["unknown-run-is-404", "reads-are-fresh", "output-with-final-status"], 4),
        (["statuses-agree"], 4),  # QUEUED next to RUNNING: lag, not a wrong answer
        (["output-with-final-status:graphql"], 4),  # the UI's read lags: a client re-reads
        (MEASURED, 3),
        (["self-hosted:rest-cancel-run"], 3),  # the public cancel endpoint does not cancel
        (["rest-cancel-run"], 3),  # GraphQL is the UI's API: REST is the public one
        (["sleeping-run-never-final"], 3),  # a running run reported finished
        (["self-hosted:sleeping-run-never-final"], 3),
        (["graphql-requires-key"], 3),  # anyone can cancel, rerun, delete apps
        (["rest-requires-key"], 3),  # anyone can read and cancel runs
        (["self-hosted:rest-cancel-run", "self-hosted:gql-cancel-run"], 3),
        (["gql-rerun", "v2-rerun"], 3),
        (["rest-list-functions", "gql-list-apps"], 3),
        (["rest-cancel-run", "gql-cancel-run"], 2),
        (["rest-get-run", "gql-get-run"], 1),
        (["rest-list-event-runs", "gql-list-runs"], 1),
    ],
)
def test_op02_management_api(op: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(op, "OP-02", op02(failed))
    assert rating.stars == stars
    assert set(failed) & set(rating.drivers) or stars == 5


def test_op02_names_the_faults_and_oddities_it_found_in_words(op: ModuleType) -> None:
    rating = rate(op, "OP-02", op02(["reads-are-fresh"]))
    assert rating.stars == 4 and "reads-are-fresh" in rating.drivers
    assert "can return a stale status" in str(rating.reason)
    rating = rate(op, "OP-02", op02(["graphql-requires-key", "reads-are-fresh"]))
    assert rating.stars == 3
    reason = str(rating.reason)
    assert "GraphQL takes queries and mutations without the signing key" in reason
    assert "stale status" in reason and "-key" not in reason and "reads-are" not in reason
    assert "cancelRun" in str(rating.advice)


def test_op02_says_which_server_a_fault_was_seen_on(op: ModuleType) -> None:
    hosted = str(rate(op, "OP-02", op02(["self-hosted:rest-cancel-run"])).reason)
    assert "does not cancel the run (on the self-hosted server)" in hosted
    both = rate(
        op, "OP-02", op02(["sleeping-run-never-final", "self-hosted:sleeping-run-never-final"])
    )
    assert "as finished (on both servers)" in str(both.reason)
    assert {"sleeping-run-never-final", "self-hosted:sleeping-run-never-final"} <= set(both.drivers)


def test_op02_reason_gives_the_measured_status_to_output_gap(op: ModuleType) -> None:
    gaps = [0.0] * 6 + [12.5, 41.0, 41.0, 97.0]
    rating = rate(op, "OP-02", op02(["output-with-final-status"], gaps))
    assert rating.stars == 4
    assert "4 of 10 runs" in str(rating.reason) and "max 97.0 ms" in str(rating.reason)
    faulty = rate(op, "OP-02", op02(MEASURED, gaps))
    assert faulty.stars == 3 and "4 of 10 runs" in str(faulty.reason)


def test_op02_reason_gives_the_graphql_gap_when_only_graphql_lags(op: ModuleType) -> None:
    ev = op02(["output-with-final-status:graphql"])
    gaps = [0.0, 0.0, 35.0, 60.0]
    ev.measure("final-status-to-output", 0.0, "ms", samples=[0.0] * 4)
    ev.measure("final-status-to-output:graphql", 17.5, "ms", samples=gaps)
    rating = rate(op, "OP-02", ev)
    assert rating.stars == 4 and "2 of 4 runs" in str(rating.reason)
    assert "output-with-final-status:graphql" in rating.drivers


def survival(scenario: str) -> list[str]:
    return [f"{scenario}:{k}" for k in ("history-kept", "registration-kept", "in-flight-resumed")]


OP03 = survival("self-hosted") + survival("self-hosted-sqlite")


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["self-hosted-sqlite:in-flight-resumed"], 4),  # what inngest 1.43.0 does
        (["self-hosted-sqlite:history-kept"], 4),  # "every backend kept history" is untrue
        (["self-hosted-sqlite:registration-kept"], 4),
        (["self-hosted:history-kept"], 3),
        (["self-hosted:in-flight-resumed"], 2),
    ],
)
def test_op03_storage(op: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(op, "OP-03", evidence(OP03, failed)).stars == stars


def test_op03_speaks_of_persist_only_when_the_dev_server_lost_something(op: ModuleType) -> None:
    dev = survival("dev-persist")
    kept = rate(op, "OP-03", evidence([*OP03, *dev]))
    lost = rate(op, "OP-03", evidence([*OP03, *dev], [dev[2]]))
    assert kept.stars == lost.stars == 5
    assert "--persist" not in str(kept.reason) and "--persist did not" in str(lost.reason)
    sqlite_lost = [*dev[2:], "self-hosted-sqlite:in-flight-resumed"]
    assert "even with --persist" in str(
        rate(op, "OP-03", evidence([*OP03, *dev], sqlite_lost)).advice
    )
    kept_dev = rate(op, "OP-03", evidence([*OP03, *dev], ["self-hosted-sqlite:in-flight-resumed"]))
    assert "--persist" not in str(kept_dev.advice)


def test_op03_without_postgres_and_redis_is_at_most_three_and_says_how_to_install(
    op: ModuleType,
) -> None:
    dev = survival("dev-persist")
    ev = evidence(dev[:2], dev[2:], survival("self-hosted") + survival("self-hosted-sqlite"))
    rating = rate(op, "OP-03", ev)
    assert rating.stars == 3
    assert rating.advice is not None and "apt-get install" in str(rating.advice)


OP04 = ["queue-drains", "self-hosted:queue-drains", "per-key-limit-held", "keys-run-in-parallel"]


@pytest.mark.parametrize(
    ("failed", "drain_s", "stars"),
    [
        ([], 2.0, 4),
        ([], 75.0, 3),
        (["keys-run-in-parallel"], 2.0, 3),
        (["per-key-limit-held"], 2.0, 3),
        (["queue-drains"], 2.0, 2),
        (["self-hosted:queue-drains"], 2.0, 2),  # the server users deploy did not drain it
    ],
)
def test_op04_scalability(op: ModuleType, failed: list[str], drain_s: float, stars: int) -> None:
    ev = evidence(OP04, failed, measurements={"drain-time": drain_s})
    assert rate(op, "OP-04", ev).stars == stars


def test_op04_without_a_self_hosted_server_rates_the_dev_server(op: ModuleType) -> None:
    ev = evidence(OP04, not_run=["self-hosted:queue-drains"], measurements={"drain-time": 2.0})
    assert rate(op, "OP-04", ev).stars == 4


TWO = ["two-instances:both-take-work", "two-instances:each-step-once"]


def test_op04_two_instances_sharing_a_burst_change_the_reason_not_the_ceiling(
    op: ModuleType,
) -> None:
    shared = rate(op, "OP-04", evidence([*OP04, *TWO], measurements={"drain-time": 2.0}))
    assert shared.stars == 4 and "two inngest start processes" in str(shared.reason)
    idle = rate(
        op,
        "OP-04",
        evidence(OP04 + TWO[1:], [TWO[0]], measurements={"drain-time": 2.0}),
    )
    assert idle.stars == 4 and "took no share" in str(idle.reason)


def test_op04_a_step_run_twice_by_two_healthy_instances_is_three_stars(op: ModuleType) -> None:
    ev = evidence([*OP04, TWO[0]], [TWO[1]], measurements={"drain-time": 2.0})
    rating = rate(op, "OP-04", ev)
    assert rating.stars == 3 and rating.drivers == ["two-instances:each-step-once"]


OP05 = ["retention-setting", "delete-run-api", "self-hosted-keeps-history"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["delete-run-api"], 4),
        (["retention-setting", "delete-run-api"], 3),  # what inngest 1.43.0 offers
        (["self-hosted-keeps-history"], 2),
    ],
)
def test_op05_retention(op: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(op, "OP-05", evidence(OP05, failed)).stars == stars


@pytest.mark.parametrize(
    ("passed", "failed", "not_run", "stars"),
    [
        # one host, one PostgreSQL, one Redis, no regions: process failover is PoC level
        (["crash-recovery", "second-instance-takeover"], [], [], 3),
        (["crash-recovery"], ["second-instance-takeover"], [], 2),
        ([], [], ["crash-recovery", "second-instance-takeover"], 2),
        ([], ["crash-recovery"], [], 1),
    ],
)
def test_op06_availability(
    op: ModuleType, passed: list[str], failed: list[str], not_run: list[str], stars: int
) -> None:
    assert rate(op, "OP-06", evidence(passed, failed, not_run)).stars == stars


def test_op06_a_step_under_way_on_a_killed_instance(op: ModuleType) -> None:
    base = ["crash-recovery", "second-instance-takeover"]
    taken_over = rate(op, "OP-06", evidence([*base, "two-instances:killed-mid-step-completes"]))
    assert taken_over.stars == 3 and "under way" in str(taken_over.reason)
    lost = rate(op, "OP-06", evidence(base, ["two-instances:killed-mid-step-completes"]))
    assert lost.stars == 2 and "two-instances:killed-mid-step-completes" in lost.drivers


def test_op06_reason_says_what_one_host_could_not_show(op: ModuleType) -> None:
    rating = rate(op, "OP-06", evidence(["crash-recovery", "second-instance-takeover"]))
    assert "one host" in str(rating.reason) and "regions" in str(rating.reason)


OP07 = ["shared-limit-delays", "per-tenant-key-isolates", "noisy-tenant-still-limited"]
WAITS = {"quiet-tenant-wait:shared": 7.1, "quiet-tenant-wait:per-tenant": 1.5}


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 4),
        (["shared-limit-delays"], 3),
        (["noisy-tenant-still-limited"], 3),
        (["per-tenant-key-isolates"], 2),
    ],
)
def test_op07_isolation(op: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(op, "OP-07", evidence(OP07, failed, measurements=WAITS)).stars == stars


def test_op07_reason_quotes_the_measured_waits(op: ModuleType) -> None:
    reason = str(rate(op, "OP-07", evidence(OP07, measurements=WAITS)).reason)
    assert "7.1 s" in reason and "1.5 s" in reason


def test_missing_evidence_never_rates_well(op: ModuleType) -> None:
    for item in op.suite.items.values():
        try:
            rating = item.rate(Evidence())
        except KeyError:
            continue  # asking for a measurement that was never recorded is loud, not lenient
        assert rating.stars <= 3, item.id
