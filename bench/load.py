"""HTTP load: varied registration bodies, and two load generators that are cheap per request.

`wrk` (C, epoll, one thread, keep-alive connections, requests pre-formatted in Lua) is the
default: it costs a few percent of one core at the rates measured here, so on a two-core
machine nearly all the CPU is left to the servers. When it is missing the bench installs it
from Debian's packages (as root); if that fails it falls back to an httpx.AsyncClient with
HTTP/1.1 keep-alive and a pool warmed before measuring, which costs much more CPU per request
(its own CPU share is printed beside the figures, so a bottlenecked client shows).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.validation import id_check_char

# The agency whose staff register the bench's cases: staff register their own agency's cases only
# (docs/security.md "Scoping"), so the bench acts as one agency's staff.
AGENCY = "agency-01"
PATH = "/api/v1/cases"
REGISTRATION_TARGET = 0.50  # of the bare insert's rate (issue 17; it was 0.40)

_KINDS = ["criminal", "civil", "administrative", "non_litigation"]
_CAUSES = ["盗窃", "故意伤害", "劳动争议", "追索劳动报酬", "婚姻家庭纠纷", "交通事故损害赔偿",
           "工伤认定", "诈骗", "医疗损害责任纠纷", "行政处罚"]
_DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "昌平区", "大兴区"]
_SURNAMES = "王李张刘陈杨赵黄周吴"
_REGIONS = ["110101", "110102", "110105", "110106", "110108", "310101", "440103"]
_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "军"]


def registration_bodies(count: int = 500, seed: int = 7) -> list[dict]:
    """Valid `POST /api/v1/cases` bodies (as in services/intake/tests/test_cases_api.py), varied
    in kind, cause, district, agency, flags and the aided person."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        district = rng.choice(_DISTRICTS)
        # Valid ones (shared/validation.py): a region, a real birth date, the check character.
        first17 = (rng.choice(_REGIONS)
                   + f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                   + f"{rng.randint(0, 999):03d}")
        id_number = first17 + id_check_char(first17)
        person: dict = {"name": rng.choice(_SURNAMES) + rng.choice(_GIVEN), "id_number": id_number}
        if n % 3:
            person["phone"] = ("1" + rng.choice("3456789")
                               + "".join(rng.choice("0123456789") for _ in range(9)))
        if n % 4:
            person["address"] = f"北京市{district}某路{rng.randint(1, 300)}号"
        flags: dict = {}
        if n % 17 == 0:
            flags = {"group_case": True, "head_count": rng.randint(3, 30)}
        elif n % 23 == 0:
            flags = {"major_or_sensitive": True}
        bodies.append({"case_kind": rng.choice(_KINDS), "cause": rng.choice(_CAUSES), "district": district,
                       "agency_id": AGENCY, "flags": flags,
                       "aided_person": person})
    return bodies


@dataclass
class LoadResult:
    target: str
    client: str
    connections: int
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    client_cpu: float  # CPU seconds the load generator used per wall second (1.0 = one core)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- wrk ----------------------------------------------------------------------------------


def ensure_wrk(say) -> str | None:
    """The wrk binary, installed from Debian's packages when missing and we may; else None."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    say("wrk is missing: installing it from Debian's packages (apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def install() -> bool:
        return subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env,  # noqa: S607
                              capture_output=True, check=False).returncode == 0

    if not install():  # the package lists may be missing or stale
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)  # noqa: S607
        install()
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    level = "=" * 3
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def _wrk_script(bodies: list[dict], headers: dict[str, str], path: str = PATH) -> str:
    literals = ",\n".join(_lua_string(json.dumps(b, ensure_ascii=False)) for b in bodies)
    header_lines = "".join(f"  [ {_lua_string(k)} ] = {_lua_string(v)},\n" for k, v in headers.items())
    return f"""
local headers = {{
  ["Content-Type"] = "application/json",
{header_lines}}}
local bodies = {{
{literals}
}}
local formatted = {{}}
local i = 0

function init(args)
  for n, body in ipairs(bodies) do
    formatted[n] = wrk.format("POST", "{path}", headers, body)
  end
end

function request()
  i = i % #formatted + 1
  return formatted[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_load(wrk: str, target: str, base_url: str, bodies: list[dict], *, connections: int,
             seconds: float, headers: dict[str, str] | None = None, path: str = PATH) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(_wrk_script(bodies, headers or {}, path))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603
            [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", script.name, base_url + path],
            capture_output=True, text=True, check=False,
        )
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    r = json.loads(line.removeprefix("BENCH-RESULT "))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LoadResult(
        target=target, client="wrk", connections=connections, seconds=r["duration_us"] / 1e6,
        requests=r["requests"], errors=sum(r[k] for k in ("connect", "read", "write", "status", "timeout")),
        p50_ms=r["p50"] / 1000, p95_ms=r["p95"] / 1000, p99_ms=r["p99"] / 1000, client_cpu=cpu / wall,
    )


# --- httpx (the fallback) -------------------------------------------------------------------


async def _httpx_load(target: str, base_url: str, bodies: list[dict], connections: int, seconds: float,
                      extra_headers: dict[str, str], path: str) -> LoadResult:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    payloads = [json.dumps(b, ensure_ascii=False).encode() for b in bodies]
    headers = {"content-type": "application/json", **extra_headers}
    async with httpx.AsyncClient(base_url=base_url, limits=limits, http1=True, http2=False,
                                 timeout=10.0) as client:
        # Warm the pool: every connection opened before the clock starts.
        await asyncio.gather(*(client.get("/readyz") for _ in range(connections)))
        latencies: list[float] = []
        errors = 0
        counter = 0
        cpu_before = time.process_time()
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                body = payloads[counter % len(payloads)]
                t0 = time.perf_counter()
                try:
                    response = await client.post(path, content=body, headers=headers)
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(connections)))
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadResult(target=target, client="httpx", connections=connections, seconds=wall,
                      requests=len(latencies), errors=errors,
                      p50_ms=cuts[49] * 1000, p95_ms=cuts[94] * 1000, p99_ms=cuts[98] * 1000,
                      client_cpu=cpu / wall)


def httpx_load(target: str, base_url: str, bodies: list[dict], *, connections: int, seconds: float,
               headers: dict[str, str] | None = None, path: str = PATH) -> LoadResult:
    return asyncio.run(_httpx_load(target, base_url, bodies, connections, seconds, headers or {}, path))


def drive(wrk: str | None, target: str, base_url: str, bodies: list[dict], *, connections: int,
          seconds: float, headers: dict[str, str] | None = None, path: str = PATH) -> LoadResult:
    """`headers`: the caller's Authorization (agency staff registering); the bare baseline gets
    the same bytes on the wire, so the comparison includes verifying the token, not sending it.
    `path`: another endpoint taking the same bodies (bench/floor.py)."""
    if wrk:
        return wrk_load(wrk, target, base_url, bodies, connections=connections, seconds=seconds,
                        headers=headers, path=path)
    return httpx_load(target, base_url, bodies, connections=connections, seconds=seconds, headers=headers,
                      path=path)
