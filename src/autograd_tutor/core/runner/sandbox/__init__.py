"""Kernel confinement for the cell process (docs/sandbox.md says what and why).

Two steps, in two processes (see docs/architecture.md):

* ``enter_namespaces`` (namespaces.py) runs in the relay: it prepares the mount plan
  (mounts.py) with the relay's real ids, then new user (root becomes uid 65534 outside),
  network and pid namespaces.
* ``confine_cell`` runs in the relay's child, pid 1 of the new pid namespace, before any
  learner code: its own mount namespace with a minimal root, then no_new_privs, rlimits, a
  per-namespace pid_max, no nested user namespaces, no capabilities, Landlock as a second
  layer, and last a seccomp filter (seccomp_filter.py).

Nothing here raises because the kernel lacks a feature: each missing protection is written
into a ``SandboxReport`` with the reason, so the app can say "sandbox: partial — ...".
Only the standard library (ctypes) is used, and libseccomp (through pyseccomp) for the filter.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import tempfile
import time
from pathlib import Path

from autograd_tutor.core.runner.sandbox import environment, landlock, limits, mounts, seccomp_filter
from autograd_tutor.core.runner.sandbox.kernel import (
    PR_SET_NO_NEW_PRIVS,
    kernel_at_least,
    why,
)
from autograd_tutor.core.runner.sandbox.landlock import landlock_abi
from autograd_tutor.core.runner.sandbox.mounts import close_fds_from
from autograd_tutor.core.runner.sandbox.namespaces import enter_namespaces
from autograd_tutor.core.runner.shared.processes import die_with_parent, prctl
from autograd_tutor.core.runner.shared.sandbox_config import NOBODY, SandboxConfig, SandboxReport

__all__ = [
    "NOBODY",
    "SandboxConfig",
    "SandboxReport",
    "close_fds_from",
    "confine_cell",
    "enter_namespaces",
    "kernel_at_least",
    "landlock_abi",
    "probe",
]


def confine_cell(config: SandboxConfig, report: SandboxReport) -> None:
    """In the cell process (pid 1 of the new pid namespace), before any learner code runs.

    The additions to ``report`` live in this process: send ``report.to_json()`` to whoever
    shows it. Note for the caller: as pid 1 of a pid namespace, this process ignores every
    signal whose handler is SIG_DFL (SIGTERM, and RLIMIT_CPU's SIGXCPU), except SIGKILL/STOP;
    the RLIMIT_CPU hard limit (SIGKILL) always works.
    """
    if mounts.enter(config, report):
        scratch, writable = mounts.SCRATCH, [mounts.SCRATCH, "/tmp"]
        _matplotlib_config(scratch)
    else:
        scratch = str(config.scratch)
        writable = [scratch]
        try:
            Path(scratch).mkdir(parents=True, exist_ok=True)
            os.chdir(scratch)
        except OSError as e:
            report.missing["scratch cwd"] = f"{scratch}: {why(e)}"
    environment.minimal(scratch, report)
    tempfile.tempdir = scratch  # tempfile caches its first answer

    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads > 1:  # both no_new_privs and Landlock bind only the calling thread
        report.missing["single thread"] = f"{threads} threads; only the calling one is confined"

    if prctl(PR_SET_NO_NEW_PRIVS, 1):
        report.active.append("no_new_privs")
    else:
        report.missing["no_new_privs"] = why(OSError(ctypes.get_errno(), ""))

    limits.set_rlimits(config, report)
    limits.limit_pids(config.processes, report)  # needs /proc/sys writable: before Landlock
    limits.forbid_user_namespaces(report)  # the same, and CAP_SYS_RESOURCE in the namespace
    if "user namespace" in report.active:
        limits.drop_capabilities(report)
    try:
        landlock.restrict(landlock.rules(config, writable), report)
    except (OSError, RuntimeError, ValueError) as e:  # e.g. a symlink loop in sys.path
        report.missing["landlock"] = f"building the rules: {e}"
    # Last: every step above may use what the filter denies (mount, unshare, /proc/sys).
    seccomp_filter.install(config, report)


def _matplotlib_config(scratch: str) -> None:
    """MPLCONFIGDIR is mounted read-only, and matplotlib, finding it not writable, would
    warn and rebuild its font cache in a new temporary folder (seconds) if the cell imports
    it first. It gets a writable folder in the scratch instead, with links to the caches."""
    shared = os.environ.get("MPLCONFIGDIR")
    if not shared or not os.path.isdir(shared):
        return
    own = os.path.join(scratch, ".cache", "matplotlib")
    try:
        os.makedirs(own, exist_ok=True)
        for name in os.listdir(shared):
            os.symlink(os.path.join(shared, name), os.path.join(own, name))
    except OSError:
        return  # matplotlib falls back to a temporary folder, as it would anyway
    os.environ["MPLCONFIGDIR"] = own


def probe(timeout: float = 10.0) -> SandboxReport:
    """What this kernel offers: a throwaway child tries enter_namespaces, its child confine_cell.

    The confined grandchild reports over a pipe. Costs a few milliseconds; never raises for
    a missing feature (a probe that dies or hangs comes back as a report that says so).
    """
    scratch = Path(tempfile.mkdtemp(prefix="autograd-tutor-probe-"))
    r, w = os.pipe()
    try:
        try:
            pid = os.fork()
        except OSError as e:
            os.close(w)
            return SandboxReport(missing={"probe": f"fork: {why(e)}"})
        if pid == 0:  # the throwaway relay
            try:
                os.close(r)
                _probe_child(scratch, w)
            finally:
                os._exit(0)
        os.close(w)
        data, deadline = b"", time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and select.select([r], [], [], left)[0]:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        else:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(r)
        shutil.rmtree(scratch, ignore_errors=True)
    line = data.split(b"\n", 1)[0]
    if not line:
        return SandboxReport(missing={"probe": "the probe process gave no answer"})
    return SandboxReport.from_json(json.loads(line))


def _probe_child(scratch: Path, w: int) -> None:
    report = SandboxReport()
    config = SandboxConfig(scratch=scratch, read_paths=[])
    enter_namespaces(report, config)
    try:
        pid = os.fork()
    except OSError as e:
        report.missing["cell process"] = f"fork after unshare: {why(e)}"
        pid = -1
    if pid == 0:  # pid 1 of the new pid namespace, if there is one
        try:
            die_with_parent()  # if probe() kills us
            confine_cell(config, report)
            os.write(w, json.dumps(report.to_json()).encode() + b"\n")
        finally:
            os._exit(0)
    config.plan.close()
    if pid > 0:
        status = os.waitpid(pid, 0)[1]
        if status == 0:
            return  # the cell wrote its report
        report.missing["cell process"] = f"probe cell ended with wait status {status}"
    os.write(w, json.dumps(report.to_json()).encode() + b"\n")  # rather than no answer
