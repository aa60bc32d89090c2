"""`make bench`: build the mine-L data set once, then print one BENCH line per measure.

Each measure is a ratio against a baseline taken in the same run (or a memory
figure), never a wall-clock threshold, so the numbers mean the same on any machine.
Every bench/bench_*.py module exposes ``measure() -> list[Measure]``.

Environment: BENCH_SCALE=L (default; 1,000 branches) or S (20 branches, for a quick
check); BENCH_DATABASE_URL to run against PostgreSQL instead of var/bench/*.sqlite3.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Measure:
    name: str
    value: float
    unit: str
    op: str
    target: float

    @property
    def met(self) -> bool:
        return {
            "<=": self.value <= self.target,
            "<": self.value < self.target,
            ">=": self.value >= self.target,
            ">": self.value > self.target,
            "=": self.value == self.target,
        }[self.op]

    def line(self) -> str:
        value = f"{self.value:.3g}" if isinstance(self.value, float) else str(self.value)
        target = f"{self.target:g}"
        return f"BENCH {self.name} {value} {self.unit} goal {self.op} {target}" + (
            "" if self.met else "  (goal missed)"
        )


def best_of(n: int, fn) -> float:
    """The fastest of ``n`` runs of ``fn``, in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def setup_django() -> str:
    scale = os.environ.get("BENCH_SCALE", "L").upper()
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{bench_dir / f'mine-{scale}.sqlite3'}"
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanhui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scale


def main() -> int:
    scale = setup_django()
    from bench import dataset

    started = time.perf_counter()
    built = dataset.ensure(scale)
    print(
        f"# data set mine-{scale}: {dataset.describe()}"
        + (f" (built in {time.perf_counter() - started:.0f} s)" if built else " (cached)")
    )

    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    failures = 0
    count = 0
    for name in modules:
        try:
            measures = importlib.import_module(f"bench.{name}").measure()
        except Exception:
            failures += 1
            print(f"# {name}: could not be measured", file=sys.stderr)
            traceback.print_exc()
            continue
        for m in measures:
            count += 1
            print(m.line(), flush=True)
    if failures or not count:
        print(f"# {failures} module(s) failed, {count} measure(s) taken", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
