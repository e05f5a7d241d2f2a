"""Memory of the stack's processes, sampled in a thread while the bench runs.

Each labelled process is sampled with its children (PostgreSQL forks a backend per connection,
so its tree is the server). Two figures per tree:

- RSS (resident set size), what `ps` and `top` show. It counts a shared page once in every
  process that maps it, so PostgreSQL's tree counts its shared buffers once per backend: the
  sum over a tree is an upper bound that grows with the number of connections.
- PSS (proportional set size): each shared page divided among the processes sharing it, so
  the PSS of several processes adds up to what they really hold together. The budget is judged
  on it (and the RSS is printed beside it).
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from dataclasses import dataclass, field

import psutil

from bench.cpu import trees

MiB = 1024 * 1024


def memory_of_tree(members: list[psutil.Process], *, pss: bool) -> tuple[int, int]:
    """(RSS, PSS) in bytes of a process tree, as devstack.embedded.rss_of_tree plus PSS when
    asked (reading smaps costs ten times more, so it is sampled less often)."""
    total_rss = total_pss = 0
    for p in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if pss:
                info = p.memory_full_info()
                total_pss += info.pss
            else:
                info = p.memory_info()
            total_rss += info.rss
    return total_rss, total_pss


@dataclass
class MemorySampler:
    pids: dict[str, int]
    interval: float = 0.2
    pss_every: int = 5  # PSS, and who is in each tree, on one sample in five (every second)
    samples: list[tuple[float, dict[str, tuple[int, int]]]] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            at = time.monotonic()
            with_pss = n % self.pss_every == 0
            if with_pss:  # the trees change slowly (PostgreSQL backends come and go): look them up then
                members = trees(self.pids)
            sample = {label: memory_of_tree(members[label], pss=with_pss) for label in self.pids}
            if not with_pss:  # carry the last PSS forward
                sample = {label: (rss, self.samples[-1][1][label][1]) for label, (rss, _) in sample.items()}
            self.samples.append((at, sample))
            n += 1
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - at)))

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _window(self, start: str, end: str | None = None) -> list[dict[str, tuple[int, int]]]:
        until = self.marks[end] if end else float("inf")
        return [s for at, s in self.samples if self.marks[start] <= at <= until] or [self.samples[-1][1]]

    def at_rest(self, start: str, end: str, kind: int) -> dict[str, int]:
        """Per process: the median between two marks (ready, before the load); kind 0 RSS, 1 PSS."""
        window = self._window(start, end)
        return {label: int(statistics.median(s[label][kind] for s in window)) for label in self.pids}

    def peak(self, start: str, kind: int) -> dict[str, int]:
        """Per process: the largest sample from a mark on (under load)."""
        window = self._window(start)
        return {label: max(s[label][kind] for s in window) for label in self.pids}

    def peak_total(self, start: str, labels: list[str], kind: int) -> int:
        """The largest sum of `labels` in one sample: what they held at one instant."""
        return max(sum(s[label][kind] for label in labels) for s in self._window(start))
