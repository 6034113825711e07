"""Load benchmark: a class of learners on one `autograd-tutor serve`, over the browser's protocol.

    .venv/bin/python bench/bench_classroom.py [--learners 30] [--runs 5] [--think 1,4]

Each simulated learner is what a browser tab is to the server: a websocket to `/ws/KEY/-`
speaking textual-serve's envelopes (`["stdin", keys]`), so each has its own app process
and its own sessions on the class's one warm host. Every learner runs the lesson's cells
(a backward pass, a live plot), then a trivial cell `--runs` times, reading 1-4 s between
two (`--think`; `--think 0` is a burst: all press again the moment their output came); the
figure is the time from sending the key to the cell's output arriving on the websocket.

Printed beside each other, from the same run on the same machine:
* one learner alone: key-to-output p50/p95, and the class's private memory;
* the whole class with every learner running cells at once: key-to-output p50/p95, the
  private memory each additional learner costs (app process + sessions), sessions
  refused, learners lost (no answer within the deadline);
* the baseline a class would pay otherwise: a host of its own per learner (a `WorkerHost`
  started here, with one session).
Targets (issue 15): <= 80 MB per additional learner, p95 <= 250 ms with 30 learners,
nothing lost, nothing hung.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.classroom.serving import serving  # noqa: E402 - the test suite's server helper

LESSON = """---
title: Class bench
---

# Class bench

```python
import torch
w = torch.tensor([1.0, -2.0], requires_grad=True)
(w ** 2).sum().backward()
print("grad", w.grad.tolist())
```

```python
from autograd_tutor import plot
for step in range(30):
    plot.point(0.9 ** step)
plot.title("decay")
```

```python
n = globals().get("n", 0) + 1
print(f"answer-{n}")
```
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
STEP_SECONDS = 60.0  # one step of one learner on a loaded machine, before it counts as lost
MiB = 1024**2


class Tab:
    """One learner's websocket, as a browser tab holds it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.text = ws, ""

    async def until(self, marker: str, since: int) -> bool:
        deadline = time.monotonic() + STEP_SECONDS
        while marker not in self.text[since:]:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                message = await self.ws.receive(timeout=left)
            except asyncio.TimeoutError:
                return False
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text += ESCAPES.sub("", message.data.decode("utf-8", errors="replace"))
            elif message.type == aiohttp.WSMsgType.TEXT:
                continue
            else:
                return False
        return True

    async def press(self, keys: str, marker: str) -> float | None:
        since = len(self.text)
        started = time.perf_counter()
        await self.ws.send_str(json.dumps(["stdin", keys]))
        return time.perf_counter() - started if await self.until(marker, since) else None


THINK = (0.0, 0.0)  # seconds a learner reads before the next key press (uniform); --think


async def learner(session, served, key: str, runs: int, start: asyncio.Event, out: dict):
    async with session.ws_connect(served.websocket(key, "width=140&height=45")) as ws:
        tab = Tab(ws)
        if not await tab.until("sandbox: ", 0):
            out["lost"] += 1
            return
        # A browser's terminal says "focus" when the learner clicks into it, before any key
        # (textual.js); without it the app takes the first key press as its focus change.
        await ws.send_str(json.dumps(["focus"]))
        if "class server is full" in tab.text or "live sessions" in tab.text:
            out["refused"] += 1
        out["ready"] += 1
        await start.wait()
        for keys, marker in (("\r", "grad [2.0, -4.0]"), ("j\r", "decay")):
            if await tab.press(keys, marker) is None:
                out["lost"] += 1
                return
        await tab.ws.send_str(json.dumps(["stdin", "j"]))  # to the trivial cell
        await asyncio.sleep(0.5)
        pace = random.Random(key)
        for k in range(1, runs + 1):
            await asyncio.sleep(pace.uniform(*THINK))
            seconds = await tab.press("\r", f"answer-{k}")
            if seconds is None:
                out["lost"] += 1
                return
            out["times"].append(seconds)
        if "try again in a minute" in tab.text or "the most this class allows" in tab.text:
            out["refused"] += 1
        out["done"] += 1


async def a_class(served, learners: int, runs: int, tag: str) -> dict:
    out = {"times": [], "lost": 0, "refused": 0, "done": 0, "ready": 0, "hung": 0}
    start = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def bounded(key: str) -> None:
            # A learner's whole visit has a deadline too: past it, it counts as lost.
            visit = STEP_SECONDS * (runs + 6)
            try:
                await asyncio.wait_for(learner(session, served, key, runs, start, out), visit)
            except asyncio.TimeoutError:
                out["lost"] += 1
                out["hung"] += 1

        tasks = [asyncio.create_task(bounded(f"{tag}{i}")) for i in range(learners)]
        # The class logs in first: every app has drawn its worker's `sandbox:` (or is lost)
        # before anyone runs a cell, so app start-ups are not measured as cell latency.
        deadline = time.monotonic() + STEP_SECONDS * 2
        while out["ready"] + out["lost"] < learners and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await asyncio.sleep(2.0)
        start.set()
        await asyncio.gather(*tasks)
    return out


SERVER = {"pid": 0}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(root: int) -> list[int]:
    kids, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += kids.get(pid, [])
    return found


def rollup(pid: int) -> dict[str, int]:
    """A process's /proc/PID/smaps_rollup in bytes by field; empty once it has gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            found[name] = int(rest.split()[0]) * 1024
    return found


def private_bytes(
    pids: list[int], fields: tuple[str, ...] = ("Private_Clean", "Private_Dirty", "Swap")
) -> int:
    """Private_Clean + Private_Dirty (+ swap) over the processes: what only they hold.
    With fields=("Pss",) their proportional share, with ("Rss",) what `top` shows."""
    return sum(rollup(pid).get(field, 0) for pid in pids for field in fields)


def private_and_pss(pids: list[int]) -> tuple[int, int]:
    """private_bytes(pids) and private_bytes(pids, ("Pss",)) from one read of each process's
    smaps_rollup: the bench samples every second on the cores it measures, so it reads once."""
    private = pss = 0
    for pid in pids:
        found = rollup(pid)
        private += sum(found.get(f, 0) for f in ("Private_Clean", "Private_Dirty", "Swap"))
        pss += found.get("Pss", 0)
    return private, pss


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kind(pid: int) -> str:
    """Which part of the class a process is: where the CPU goes."""
    line = _cmdline(pid)
    if b" serve " in line:
        return "serve (web)"
    if b" open " in line:
        return "apps"
    if b"runner.host" in line:
        return "host"
    return "sessions"


def server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in os.listdir("/proc"):
        if entry.isdigit() and b" serve " in (c := _cmdline(int(entry))) and port.encode() in c:
            return int(entry)
    raise RuntimeError("no serve process found")


def own_host_baseline() -> tuple[int, int, int]:
    """A host of one's own with one session, what each learner would cost without the
    class's shared host: (private, Pss, Rss) bytes. Private is low where other processes on
    the machine map the same torch libraries; Rss is what one learner alone would pay."""
    from autograd_tutor.core.runner.client import WorkerHost

    with WorkerHost(keep_spare=False) as host:
        host.wait_ready()
        session = host.new_session()
        session.run("import torch; print(torch.ones(2) * 2)")
        pids = _tree(host._proc.pid)
        return (
            private_bytes(pids),
            private_bytes(pids, ("Pss",)),
            private_bytes(pids, ("Rss",)),
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="trivial cells per learner")
    parser.add_argument(
        "--think",
        default="1,4",
        help="MIN,MAX seconds a learner reads between cells (default 1,4); 0 for a burst: "
        "every learner presses again as soon as the output came",
    )
    args = parser.parse_args()
    global THINK
    low, _, high = args.think.partition(",")
    THINK = (float(low), float(high or low))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "lesson").mkdir()
        lesson = folder / "lesson" / "bench.en.md"
        lesson.write_text(LESSON)
        caps = ["--class-tabs", str(args.learners + 5), "--class-sessions", "200"]
        with serving(folder / "data", *caps, path=lesson) as served:
            SERVER["pid"] = server_pid(served.base)
            base = private_bytes(_tree(SERVER["pid"]))
            one = asyncio.run(a_class(served, 1, args.runs, "solo"))
            # The solo learner has left; the class comes in.
            time.sleep(2.0)
            empty = private_bytes(_tree(SERVER["pid"]))
            empty_pss = private_bytes(_tree(SERVER["pid"]), ("Pss",))
            many_out: dict = {}

            async def measured() -> None:
                task = asyncio.create_task(a_class(served, args.learners, args.runs, "l"))
                peak = peak_pss = 0
                used: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU s so far)
                first = {p: cpu_seconds(p) for p in _tree(SERVER["pid"])}
                mine = time.process_time()  # the bench's own share of the same cores
                while not task.done():
                    pids = _tree(SERVER["pid"])
                    for pid in pids:
                        was = used.get(pid, (kind(pid), 0.0))
                        now = cpu_seconds(pid) - first.get(pid, 0.0)
                        used[pid] = (was[0], max(was[1], now))
                    private, pss = private_and_pss(pids)
                    peak, peak_pss = max(peak, private), max(peak_pss, pss)
                    await asyncio.sleep(1.0)
                cpu: dict[str, float] = {}
                for name, seconds in used.values():
                    cpu[name] = cpu.get(name, 0.0) + seconds
                cpu["bench itself"] = time.process_time() - mine
                many_out.update(await task, peak=peak, peak_pss=peak_pss, cpu=cpu)

            asyncio.run(measured())
        baseline = own_host_baseline()
    per_learner = (many_out["peak"] - empty) / max(args.learners, 1)
    per_learner_pss = (many_out["peak_pss"] - empty_pss) / max(args.learners, 1)
    ms = 1000.0
    print(
        f"class of {args.learners} learners, {args.runs} trivial cells each,"
        f" {THINK[0]:g}-{THINK[1]:g} s between them, {os.cpu_count()} CPUs"
    )
    print(f"{'':38}{'1 learner':>14}{f'{args.learners} learners':>16}   target")
    print(
        f"{'key press -> output, p50':38}{percentile(one['times'], 0.5) * ms:>11.0f} ms"
        f"{percentile(many_out['times'], 0.5) * ms:>13.0f} ms"
    )
    print(
        f"{'key press -> output, p95':38}{percentile(one['times'], 0.95) * ms:>11.0f} ms"
        f"{percentile(many_out['times'], 0.95) * ms:>13.0f} ms   <= 250 ms"
    )
    print(f"{'server + shared host, no learner':38}{base / MiB:>11.0f} MB")
    print(
        f"{'private memory per additional learner':38}{'':>14}{per_learner / MiB:>13.0f} MB"
        "   <= 80 MB"
    )
    print(f"{'  the same, proportional (Pss)':38}{'':>14}{per_learner_pss / MiB:>13.0f} MB")
    private, pss, rss = (b / MiB for b in baseline)
    print(
        f"{'a host of its own (baseline): private':38}{private:>11.0f} MB"
        f"   Pss {pss:.0f} MB, Rss {rss:.0f} MB"
    )
    print(f"{'sessions refused':38}{one['refused']:>14}{many_out['refused']:>16}")
    print(f"{'learners lost (no answer in time)':38}{one['lost']:>14}{many_out['lost']:>16}   0")
    print(f"{'learners done':38}{one['done']:>14}{many_out['done']:>16}")
    print(f"{'  of the lost, past the visit deadline':38}{one['hung']:>14}{many_out['hung']:>16}")
    cells = max(len(many_out["times"]) + 2 * many_out["done"], 1)
    where = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(many_out["cpu"].items()))
    print(f"CPU used by the class: {where} ({cells} cells run)")
    return 0 if many_out["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
