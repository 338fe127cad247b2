"""Concurrent awaits of one key share one call; a caller's going away never fails the others."""

from __future__ import annotations

import asyncio
import gc

import pytest

from config.single_flight import SingleFlight


class Lookup:
    """A look-up that counts its calls and finishes when the test says so."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = asyncio.Event()

    def of(self, key: str, *, fail: bool = False):
        async def call() -> str:
            self.calls.append(key)
            await self.release.wait()
            if fail:
                raise LookupError(key)
            return f"answer for {key}"

        return call


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_concurrent_callers_of_one_key_share_one_call():
    async def scenario():
        flight, lookup = SingleFlight(), Lookup()
        callers = [asyncio.create_task(flight.run("job-1", lookup.of("job-1"))) for _ in range(20)]
        await settle()
        lookup.release.set()
        return lookup.calls, await asyncio.gather(*callers)

    calls, answers = asyncio.run(scenario())

    assert calls == ["job-1"]
    assert answers == ["answer for job-1"] * 20


def test_each_key_has_its_own_call_and_a_finished_call_is_made_again():
    async def scenario():
        flight, lookup = SingleFlight(), Lookup()
        lookup.release.set()
        together = await asyncio.gather(flight.run("a", lookup.of("a")), flight.run("b", lookup.of("b")))
        later = await flight.run("a", lookup.of("a"))
        return lookup.calls, together, later

    calls, together, later = asyncio.run(scenario())

    assert sorted(calls) == ["a", "a", "b"]
    assert together == ["answer for a", "answer for b"]
    assert later == "answer for a"


def test_an_exception_reaches_every_caller_and_the_next_call_is_made_afresh():
    async def scenario():
        flight, lookup = SingleFlight(), Lookup()
        callers = [asyncio.create_task(flight.run("k", lookup.of("k", fail=True))) for _ in range(3)]
        await settle()
        lookup.release.set()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        again = await flight.run("k", lookup.of("k"))
        return lookup.calls, outcomes, again

    calls, outcomes, again = asyncio.run(scenario())

    assert [type(outcome) for outcome in outcomes] == [LookupError] * 3
    assert calls == ["k", "k"]
    assert again == "answer for k"


def test_when_the_caller_making_the_call_goes_away_a_waiting_one_makes_it():
    async def scenario():
        flight, lookup = SingleFlight(), Lookup()
        leader = asyncio.create_task(flight.run("k", lookup.of("k")))
        await settle()
        waiters = [asyncio.create_task(flight.run("k", lookup.of("k"))) for _ in range(3)]
        await settle()
        leader.cancel()
        await settle()
        lookup.release.set()
        return lookup.calls, await asyncio.gather(*waiters), leader.cancelled()

    calls, answers, leader_cancelled = asyncio.run(scenario())

    assert leader_cancelled
    assert calls == ["k", "k"]  # the first caller's, then one waiter's for the rest
    assert answers == ["answer for k"] * 3


def test_a_waiter_going_away_leaves_the_call_to_the_others():
    async def scenario():
        flight, lookup = SingleFlight(), Lookup()
        callers = [asyncio.create_task(flight.run("k", lookup.of("k"))) for _ in range(3)]
        await settle()
        callers[1].cancel()
        await settle()
        lookup.release.set()
        return lookup.calls, await asyncio.gather(callers[0], callers[2]), callers[1].cancelled()

    calls, answers, waiter_cancelled = asyncio.run(scenario())

    assert waiter_cancelled
    assert calls == ["k"]
    assert answers == ["answer for k"] * 2


def test_a_failure_nobody_else_waited_for_is_not_reported_as_lost():
    reported: list[dict] = []

    async def scenario():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
        flight, lookup = SingleFlight(), Lookup()
        lookup.release.set()
        with pytest.raises(LookupError):
            await flight.run("k", lookup.of("k", fail=True))
        gc.collect()  # a future whose exception nobody read reports it when it is collected

    asyncio.run(scenario())

    assert reported == []
