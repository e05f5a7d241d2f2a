"""CPU used by the stack's processes over a window, and by the rest of the machine.

On a two-core machine every process competes with every other: a consumer catching up after a
burst, or another program, lowers what the HTTP endpoint under load gets. So each measured
window also says who used the cores: each process of the stack (with its children), the load
generator, and everything else on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psutil

T = TypeVar("T")


def trees(roots: dict[str, int]) -> dict[str, list[psutil.Process]]:
    """Each root process with all its descendants, from one pass over the process table
    (psutil's children(recursive=True) walks the whole table once per call)."""
    kids: dict[int, list[psutil.Process]] = {}
    found: dict[int, psutil.Process] = {}
    for p in psutil.process_iter(["ppid"]):
        found[p.pid] = p
        kids.setdefault(p.info["ppid"], []).append(p)
    result = {}
    for label, pid in roots.items():
        todo = [found[pid]] if pid in found else []
        members = []
        while todo:
            p = todo.pop()
            members.append(p)
            todo.extend(kids.get(p.pid, []))
        result[label] = members
    return result


def _seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy, all cores together."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)


@dataclass
class Usage:
    """Cores used over one window (1.0 = one core busy for the whole window)."""

    seconds: float
    cores: dict[str, float]
    machine: float

    def total(self, labels: list[str]) -> float:
        return sum(self.cores[label] for label in labels)

    def others(self, client: float = 0.0) -> float:
        """Cores used by processes outside those measured (and outside the load generator)."""
        return max(0.0, self.machine - sum(self.cores.values()) - client)


class CpuMeter:
    """`pids` are sampled with their children, except `alone` (this process: its children are
    the services, counted under their own names)."""

    def __init__(self, pids: dict[str, int], alone: dict[str, int] | None = None):
        self.pids = pids
        self.alone = alone or {}

    def _snapshot(self) -> dict[str, float]:
        snap = {label: _seconds(members) for label, members in trees(self.pids).items()}
        for label, pid in self.alone.items():
            try:
                snap[label] = _seconds([psutil.Process(pid)])
            except psutil.NoSuchProcess:
                snap[label] = 0.0
        return snap

    def measure(self, run: Callable[[], T]) -> tuple[T, Usage]:
        before, machine, started = self._snapshot(), machine_busy(), time.monotonic()
        result = run()
        after, busy, wall = self._snapshot(), machine_busy() - machine, time.monotonic() - started
        return result, Usage(wall, {label: (after[label] - before[label]) / wall for label in after},
                             busy / wall)

    def over(self, seconds: float) -> Usage:
        return self.measure(lambda: time.sleep(seconds))[1]

    def settle(self, labels: list[str], *, below: float, window: float = 0.5, least: float = 1.0,
               timeout: float = 60.0) -> float:
        """Wait until `labels` together use less than `below` cores over a `window` (relays
        drained, consumers caught up). Returns the seconds waited."""
        started = time.monotonic()
        time.sleep(least)
        while time.monotonic() - started < timeout and self.over(window).total(labels) >= below:
            pass
        return time.monotonic() - started

    def steady(self, labels: list[str], *, window: float = 1.0, tolerance: float = 0.05,
               timeout: float = 30.0) -> Usage:
        """Wait until two windows in a row use the same cores within `tolerance` (start-up work
        done); returns the last window."""
        started = time.monotonic()
        last = self.over(window)
        while time.monotonic() - started < timeout:
            current = self.over(window)
            if abs(current.total(labels) - last.total(labels)) < tolerance:
                return current
            last = current
        return last
