"""Run the same seeded stream through every engine and compare: ``python benchmarks/run.py``.

Each engine runs the whole stream ``--runs`` times (at least 5), in rounds, the engines' order rotating
from round to round; before every run the engine gets a fresh, empty account (untimed) and the garbage
collector runs. The GC stays enabled with its default thresholds during the timed loops, as in a host.
After every run the engine's final statuses and assignees must be the stream's reference: a disagreement
stops the benchmark.

Reported per engine (medians over the runs): events/s and µs per event over the whole stream; the ratio of
events/s to ``transitions`` in the same round; setup per conversation (the time to process each
conversation's first inbound message, which is what creates it in every engine); memory per conversation
with tracemalloc, once after creating every conversation and once after the whole stream.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import engines
import stream

import convostate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REFERENCE = "transitions"


@dataclass
class Measured:
    engine: str
    models: str
    acted_on: int
    """How many of the stream's steps the engine does something with (it reads all of them)."""
    seconds: list[float] = field(default_factory=list)
    """Per run: the whole stream, by the chosen timer."""
    other_seconds: list[float] = field(default_factory=list)
    """Per run: the whole stream, by the other timer (wall clock if CPU time was chosen, and the reverse)."""
    setup_seconds: list[float] = field(default_factory=list)
    """Per run: every conversation's first inbound message only."""
    ratios: list[float] = field(default_factory=list)
    """Per round: events/s over the reference engine's events/s in the same round."""
    memory_created: int = 0
    memory_after_stream: int = 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per engine (at least 5)")
    parser.add_argument("--seed", type=int, default=20_260_105)
    parser.add_argument("--weeks", type=float, default=12.0, help="how much stream time the events span")
    parser.add_argument(
        "--engines",
        default=",".join(engines.ENGINES),
        help=f"comma-separated, of {', '.join(engines.ENGINES)}",
    )
    parser.add_argument("--quick", action="store_true", help="10k events over 1k conversations, to check")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument(
        "--timer",
        choices=("cpu", "wall"),
        default="cpu",
        help="time the runs by this process's CPU time (default: steadier on a shared machine) or wall clock",
    )
    parser.add_argument(
        "--manual-clock", action="store_true", help="drive the facade with ManualClock.set (about 4 µs more)"
    )
    parser.add_argument("--output", type=Path, help="results JSON (default results/latest.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.conversations = 10_000, 1_000
    if args.runs < 5:
        parser.error("--runs must be at least 5: the figures are medians of at least 5 runs")
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(args.engines) - set(engines.ENGINES))
    if unknown:
        parser.error(f"unknown engines {unknown}; choose from {list(engines.ENGINES)}")
    if args.output is None:
        args.output = RESULTS / ("quick.json" if args.quick else "latest.json")
    return args


def environment() -> dict[str, Any]:
    """The machine, interpreter, GC settings and versions the figures were measured with."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("transitions", "python-statemachine", "attrs", "pendulum", "sortedcontainers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gc_enabled": gc.isenabled(),
        "gc_threshold": list(gc.get_threshold()),
        "load_average_at_start": list(os.getloadavg()),
        "convostate": f"{convostate.__version__} from {Path(convostate.__file__).parent}",
        # A copy of the sources (such as a `git archive` of a commit) says what it is in CONVOSTATE_SOURCE.
        "git": os.environ.get("CONVOSTATE_SOURCE") or _git_state(Path(convostate.__file__).parent),
        "packages": versions,
    }


def _git_state(where: Path) -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{commit}{' with uncommitted changes in src' if dirty else ''}"


def timed(engine: engines.Engine, steps: Sequence[Any]) -> tuple[float, float]:
    """The CPU time and the wall-clock time of running ``steps`` on a fresh account."""
    engine.reset()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    engine.run(steps)
    return time.process_time() - cpu, time.perf_counter() - wall


def traced(engine: engines.Engine, steps: Sequence[Any]) -> int:
    """Bytes still allocated, by tracemalloc, after running ``steps`` on a fresh account."""
    engine.reset()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        engine.run(steps)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def check(the_stream: stream.Stream, engine: engines.Engine) -> None:
    wrong = engines.disagreements(the_stream, engine)
    if wrong:
        shown = "\n  ".join(wrong[:10])
        raise SystemExit(
            f"{engine.name} disagrees with the reference on {len(wrong)} counts:\n  {shown}\n"
            "The engines must end in the same statuses and assignees; fix the engine before timing it."
        )


def measure(the_stream: stream.Stream, args: argparse.Namespace) -> list[Measured]:
    built: dict[str, engines.Engine] = {}
    for name in args.engines:
        kind = engines.ENGINES[name]
        if kind is engines.FacadeEngine:
            built[name] = engines.FacadeEngine(the_stream, manual_clock=args.manual_clock)
        else:
            built[name] = kind(the_stream)
    results = {
        name: Measured(
            engine.name, engine.models, sum(step.op in engine.acts_on for step in the_stream.steps)
        )
        for name, engine in built.items()
    }
    names = list(built)
    for round_ in range(args.runs):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            engine = built[name]
            cpu, wall = timed(engine, engine.steps)
            results[name].seconds.append(cpu if args.timer == "cpu" else wall)
            results[name].other_seconds.append(wall if args.timer == "cpu" else cpu)
            check(the_stream, engine)
            cpu, wall = timed(engine, engine.first_steps)
            results[name].setup_seconds.append(cpu if args.timer == "cpu" else wall)
        if REFERENCE in results:
            reference = results[REFERENCE].seconds[-1]
            for measured in results.values():
                measured.ratios.append(reference / measured.seconds[-1])
        print(
            f"  round {round_ + 1}/{args.runs}: "
            + ", ".join(
                f"{name} {len(the_stream.steps) / results[name].seconds[-1]:,.0f}/s" for name in names
            ),
            flush=True,
        )
    if not args.no_memory:
        for name, engine in built.items():
            results[name].memory_created = traced(engine, engine.first_steps)
            results[name].memory_after_stream = traced(engine, engine.steps)
            check(the_stream, engine)
    return list(results.values())


def summary(measured: Measured, events: int, conversations: int) -> dict[str, Any]:
    per_run = [events / seconds for seconds in measured.seconds]
    return {
        "engine": measured.engine,
        "models": measured.models,
        "events_acted_on": measured.acted_on,
        "events_per_s": statistics.median(per_run),
        "events_per_s_min": min(per_run),
        "events_per_s_max": max(per_run),
        "us_per_event": statistics.median(measured.seconds) / events * 1e6,
        "ratio_to_transitions": statistics.median(measured.ratios) if measured.ratios else None,
        "setup_us_per_conversation": statistics.median(measured.setup_seconds) / conversations * 1e6,
        "memory_per_conversation_created": measured.memory_created / conversations,
        "memory_per_conversation_after_stream": measured.memory_after_stream / conversations,
        "events_per_s_other_timer": statistics.median(events / seconds for seconds in measured.other_seconds),
        "runs": measured.seconds,
        "runs_other_timer": measured.other_seconds,
        "setup_runs": measured.setup_seconds,
        "ratios": measured.ratios,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | acts on | events/s | µs/event | x transitions | setup µs/conv | memory/conv created | "
        "memory/conv after stream |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        ratio = row["ratio_to_transitions"]
        lines.append(
            f"| {row['engine']} | {row['events_acted_on']:,} | {row['events_per_s']:,.0f} | "
            f"{row['us_per_event']:.2f} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {row['setup_us_per_conversation']:.1f} | "
            f"{_size(row['memory_per_conversation_created'])} | "
            f"{_size(row['memory_per_conversation_after_stream'])} |"
        )
    return "\n".join(lines)


def _size(size: float) -> str:
    if not size:
        return "not measured"
    return f"{size / 1024:.2f} KiB" if size >= 1024 else f"{size:.0f} B"


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """The fast-path issue's targets for the stream, met or not (the memory target is in scale.py's output;
    the SQL bulk path's in sql.py's)."""
    by_engine = {row["engine"]: row for row in rows}
    facade = by_engine.get(engines.FacadeEngine.name)
    lines = []
    wanted_ratios = (
        (engines.FacadeEngine.name, 1.0),
        (engines.BatchEngine.name, 3.0),
        (engines.DeciderEngine.name, 3.0),
        # The fused write path is the batch entry point for simulations, and the pure core's rules fused:
        # both 3x targets apply to it.
        (engines.FastCoreEngine.name, 3.0),
    )
    for engine, wanted in wanted_ratios:
        row = by_engine.get(engine)
        if row is None or row["ratio_to_transitions"] is None:
            continue
        ratio = row["ratio_to_transitions"]
        verdict = "met" if ratio >= wanted else f"MISSED: needs {wanted / ratio:.1f}x faster"
        line = f"{engine}: {ratio:.2f}x transitions events/s, target >= {wanted:.1f}x ({verdict})"
        if facade is not None and row is not facade:
            line += f"; {row['events_per_s'] / facade['events_per_s']:.1f}x the facade"
        lines.append(line)
    return lines


_TIMERS = {"cpu": "CPU time (time.process_time)", "wall": "wall clock (time.perf_counter)"}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    env = environment()
    print(
        f"Python {env['python']} on {env['cpu']} ({env['cores']} cores), {env['platform']}\n"
        f"GC enabled: {env['gc_enabled']}, thresholds {tuple(env['gc_threshold'])} (defaults), "
        "gc.collect() before every run\n"
        f"load average at start: {', '.join(f'{load:.2f}' for load in env['load_average_at_start'])}\n"
        f"convostate {env['convostate']} ({env['git']}); "
        + ", ".join(f"{package} {version}" for package, version in env["packages"].items())
    )
    started = time.perf_counter()
    the_stream = stream.build(
        events=args.events, conversations=args.conversations, weeks=args.weeks, seed=args.seed
    )
    print(
        f"stream built in {time.perf_counter() - started:.2f} s (not timed):\n{stream.describe(the_stream)}"
    )
    rows = [
        summary(measured, len(the_stream.steps), args.conversations) for measured in measure(the_stream, args)
    ]
    print()
    timer, other = _TIMERS[args.timer], _TIMERS["wall" if args.timer == "cpu" else "cpu"]
    print(
        f"Medians of {args.runs} runs, timed by {timer}; final statuses and assignees agreed in every run.\n"
    )
    print(table(rows))
    print(
        f"\nBy {other}: "
        + ", ".join(f"{row['engine']} {row['events_per_s_other_timer']:,.0f}/s" for row in rows)
    )
    print()
    for line in targets(rows):
        print(line)
    result = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "environment": env,
        "stream": {
            "events": len(the_stream.steps),
            "conversations": args.conversations,
            "seed": args.seed,
            "weeks": args.weeks,
            "span_days": the_stream.span_us / stream.DAY_US,
            "stats": the_stream.stats,
        },
        "timer": _TIMERS[args.timer],
        "facade_clock": "ManualClock.set" if args.manual_clock else "StreamClock",
        "runs": args.runs,
        "results": rows,
        "targets": targets(rows),
        "load_average_at_end": list(os.getloadavg()),
        "seconds_total": time.perf_counter() - started,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    shown = args.output.relative_to(HERE.parent) if args.output.is_relative_to(HERE.parent) else args.output
    print(f"\nwrote {shown}")


if __name__ == "__main__":
    main()
