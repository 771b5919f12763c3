"""``convostate.testing.Simulation``: the simulate command's traffic, stepped by a caller (a notebook samples
the badges every simulated hour) with the same result as played at once, and refusing bad input before
it touches the helpdesk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pendulum
import pytest

from convostate import Helpdesk, InvalidInput, SystemClock, Tab
from convostate.testing import ManualClock, SequentialIds, Simulation

START = pendulum.datetime(2026, 3, 2, 8, 0, tz="UTC")


def new_simulation(seed: int = 5, agents: int = 3) -> Simulation:
    clock = ManualClock(START)
    return Simulation(Helpdesk(clock=clock, ids=SequentialIds()), clock, seed=seed, agents=agents)


def test_stepping_an_hour_at_a_time_ends_as_playing_it_all_at_once() -> None:
    at_once = new_simulation()
    at_once.run(40, 10)

    stepped = new_simulation()
    stepped.plan(40, 10)
    assert stepped.end == START.add(days=10)
    unassigned: list[int] = []
    played = 0
    for hour in range(1, 10 * 24 + 1):
        played += stepped.run_until(START.add(hours=hour))
        unassigned.append(stepped.helpdesk.badges(stepped.agents[0].id)[Tab.UNASSIGNED].total)
        assert stepped.clock.now() < START.add(hours=hour)
    assert stepped.finished
    assert stepped.run_until(START.add(days=30)) == 0  # nothing happens after the end

    assert stepped.summary() == at_once.summary()
    assert played >= 40 + 10  # every first message and every daily sweep, at least
    assert max(unassigned) > 0
    assert stepped.conversation_ids == at_once.conversation_ids
    assert len(stepped.conversation_ids) == 40


def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic() -> None:
    summaries: list[dict[str, Any]] = []
    for seed in (1, 1, 2):
        simulation = new_simulation(seed=seed)
        simulation.run(30, 10)
        summaries.append(simulation.summary())
    assert summaries[0] == summaries[1] != summaries[2]
    reopens = summaries[0]["reopens"]
    assert reopens["total"] == reopens["within_window"] + reopens["after_window"]


def test_it_sets_up_the_agents_and_the_inbox() -> None:
    simulation = new_simulation(agents=4)
    assert [agent.name for agent in simulation.agents] == ["Ana", "Bo", "Chen", "Dara"]
    assert simulation.helpdesk.inbox(simulation.inbox.id).members == {agent.id for agent in simulation.agents}
    assert simulation.end is None
    assert simulation.finished


@pytest.mark.parametrize(
    ("agents", "seed", "message"),
    [
        (0, 1, "agents must be a whole number from 1 to 10, got 0"),
        (11, 1, "agents must be a whole number from 1 to 10, got 11"),
        (True, 1, "agents must be a whole number"),
        (3, 1.5, "seed must be a whole number, got 1.5"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_added(agents: Any, seed: Any, message: str) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    with pytest.raises(InvalidInput, match=message):
        Simulation(desk, clock, seed=seed, agents=agents)
    assert desk.store.users() == []


def test_the_clock_must_be_a_manual_one_and_the_helpdesk_a_helpdesk() -> None:
    desk = Helpdesk()
    with pytest.raises(InvalidInput, match="clock must be the helpdesk's ManualClock"):
        Simulation(desk, SystemClock())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="helpdesk must be a Helpdesk"):
        Simulation(object(), ManualClock(START))  # type: ignore[arg-type]
    assert desk.store.users() == []


@pytest.mark.parametrize(
    ("conversations", "days", "message"),
    [
        (0, 1, "conversations must be a whole number from 1 to 1,000,000, got 0"),
        (1, 0, "days must be a whole number from 1 to 3,650, got 0"),
        (1, 3651, "days must be a whole number from 1 to 3,650"),
        ("5", 1, "conversations must be a whole number"),
    ],
)
def test_bad_sizes_are_refused_and_plan_nothing(conversations: Any, days: Any, message: str) -> None:
    simulation = new_simulation()
    before = simulation.helpdesk.store.dump()  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match=message):
        simulation.plan(conversations, days)
    assert simulation.end is None
    assert simulation.helpdesk.store.dump() == before  # type: ignore[attr-defined]


def test_a_second_plan_is_refused() -> None:
    simulation = new_simulation()
    simulation.plan(3, 1)
    with pytest.raises(InvalidInput, match="planned already"):
        simulation.plan(3, 1)
    assert simulation.run_until(START.add(days=1)) > 0


def test_an_instant_without_a_time_zone_is_refused() -> None:
    simulation = new_simulation()
    simulation.plan(3, 1)
    with pytest.raises(InvalidInput, match="instant must be a datetime with a time zone"):
        simulation.run_until(datetime(2026, 3, 3))  # noqa: DTZ001 (the point of the test)
    assert simulation.clock.now() == START
