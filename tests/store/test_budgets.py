"""The counts behind the per-network request limits: in memory, and in Redis when the run has it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from rejoinder.store.budgets import Budgets, Charge, MemoryBudgets, RedisBudgets
from tests.conftest import REDIS_URL

BACKENDS = ["memory", "redis"]


@pytest.fixture(params=BACKENDS)
def budgets(request: pytest.FixtureRequest) -> Iterator[Budgets]:
    made: Budgets
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("REJOINDER_TEST_REDIS_URL is not set")
        made = RedisBudgets(REDIS_URL, prefix=f"rj:test:{uuid.uuid4().hex}:")
    else:
        made = MemoryBudgets()
    yield made
    made.close()


def test_a_window_holds_its_limit_and_says_how_long_to_wait(budgets: Budgets) -> None:
    charge = [Charge("a", limit=3, window=60)]
    assert [budgets.take(charge, 1000.0 + i) for i in range(3)] == [0, 0, 0]
    assert budgets.take(charge, 1010.0) == pytest.approx(50.0)  # the first leaves at 1060
    assert budgets.take(charge, 1060.0) == 0  # ... and then there is room for one
    assert budgets.take(charge, 1060.5) == pytest.approx(0.5)


def test_a_refused_request_counts_against_none_of_its_charges(budgets: Budgets) -> None:
    small, large = Charge("small", 1, 60), Charge("large", 2, 60)
    assert budgets.take([small, large], 0.0) == 0
    assert budgets.take([small, large], 1.0) > 0  # small is spent: large is not charged
    assert budgets.take([large], 2.0) == 0  # so large still has its second
    assert budgets.take([large], 3.0) > 0


def test_parallel_takes_never_exceed_the_limit(budgets: Budgets) -> None:
    charge = [Charge(f"race-{uuid.uuid4().hex}", limit=5, window=60)]
    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(lambda i: budgets.take(charge, 100.0), range(64)))
    assert sum(1 for wait in waits if wait == 0) == 5


def test_memory_stays_bounded_under_many_keys() -> None:
    budgets = MemoryBudgets(max_keys=100)
    for i in range(10_000):
        budgets.take([Charge(f"k{i}", 5, 60)], 0.0)
    assert len(budgets._seen) <= 101
