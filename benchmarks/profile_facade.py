"""Where the facade spends its time on the stream: ``python benchmarks/profile_facade.py``.

Runs the benchmark's stream through :class:`convostate.Helpdesk` on the memory store once under cProfile
(which slows Python calls down several times over, evenly enough to rank them) and prints the top functions
by their own time (tottime) and by time including what they call (cumulative). ``--engine decider``
profiles the pure core's loop instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from engines import DeciderEngine, Engine, FacadeEngine
from run import RESULTS, check, environment
from stream import build, describe


def profile(engine: Engine, top: int) -> tuple[str, float]:
    engine.reset()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    engine.run(engine.steps)
    profiler.disable()
    seconds = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    for key, title in (("tottime", "own time (tottime)"), ("cumulative", "cumulative time")):
        out.write(f"\n### Top {top} by {title}\n\n```text\n")
        stats.sort_stats(key).print_stats(top)
        out.write("```\n")
    return _tidy(out.getvalue()), seconds


def _tidy(text: str) -> str:
    """pstats' report without its blank and bookkeeping lines."""
    kept = []
    for line in text.splitlines():
        if not line.strip() and kept and not kept[-1].strip():
            continue
        if line.strip().startswith(("Ordered by:", "List reduced from")):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip() + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20_260_105)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--engine", choices=("facade", "decider"), default="facade")
    parser.add_argument(
        "--output", type=Path, help="also write the report here (default results/profile-<engine>.md)"
    )
    args = parser.parse_args(argv)
    env = environment()
    the_stream = build(events=args.events, conversations=args.conversations, seed=args.seed)
    engine: Engine = FacadeEngine(the_stream) if args.engine == "facade" else DeciderEngine(the_stream)
    report, seconds = profile(engine, args.top)
    check(the_stream, engine)
    header = (
        f"cProfile of the {engine.name} on {len(the_stream.steps):,} events "
        f"({seconds:.1f} s under the profiler; Python {env['python']}, convostate {env['git']})\n\n"
        f"{describe(the_stream)}\n"
    )
    text = header + report
    print(text)
    output = args.output or RESULTS / f"profile-{args.engine}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
