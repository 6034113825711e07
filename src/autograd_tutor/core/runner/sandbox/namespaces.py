"""In the relay: new user, network, IPC, pid and UTS namespaces, and the user namespace's id maps.

The user namespace comes first, so that even root loses its capabilities over the rest of
the machine (no ptrace, no reading the app's ``/proc/PID/environ``); inside it the relay may
create a network namespace (no network at all) and a pid namespace whose pid 1 is the
relay's next child: killing it kills every process the learner started.

Id maps. An ordinary user maps its own uid and gid to themselves. Root maps uid 0 inside to
``NOBODY`` (65534) outside, so that to every file on the machine the cell is "nobody": file
modes protect root's files (``/etc/shadow``, a root-owned 0600 file in a granted folder),
which a 0 -> 0 map would not (root inside a user namespace keeps CAP_DAC_OVERRIDE over files
whose owner is mapped). Only a process holding CAP_SETUID in the parent namespace may write
such a map, and after unshare(CLONE_NEWUSER) the relay no longer does; so it becomes nobody
first and maps the one uid it has. It does so only when the mount plan holds every path the
cell needs as a detached mount (made while still root): nobody could not look them up.
"""

from __future__ import annotations

import os
import socket

from autograd_tutor.core.runner.sandbox import mounts
from autograd_tutor.core.runner.sandbox.kernel import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    PR_SET_DUMPABLE,
    setdomainname,
    unshare,
    why,
    write,
)
from autograd_tutor.core.runner.shared.processes import prctl
from autograd_tutor.core.runner.shared.sandbox_config import NOBODY, SandboxConfig, SandboxReport

HOSTNAME = "autograd-tutor"  # what a cell's socket.gethostname() says, on every machine
HOSTNAME_DOMAIN = "(none)"  # the kernel's own default NIS domain name


def enter_namespaces(report: SandboxReport, config: SandboxConfig | None = None) -> None:
    """In the relay, before it forks the cell process: new user, network and pid namespaces.

    With a ``config``, first prepares its mount plan (``config.plan``, see mounts.py) while
    the relay still has its real ids. The next child forked becomes pid 1 of the new pid
    namespace. Needs a single-threaded caller (the kernel refuses CLONE_NEWUSER otherwise).
    Each failed step is recorded in ``report.missing``; nothing is raised.
    """
    if config is not None:
        config.plan = mounts.prepare(config, report)
    uid, gid = os.geteuid(), os.getegid()
    become_nobody = config is not None and uid == 0 and config.plan.detached
    # A non-dumpable process (an app that hid its memory with PR_SET_DUMPABLE 0 and forked
    # us, or one that just changed uid) gets root-owned /proc/self files and could not write
    # its own id maps.
    prctl(PR_SET_DUMPABLE, 1)
    if become_nobody:
        try:
            # The host scratch folder is the cell's only without a mount namespace; it must
            # be nobody's then, and the relay (nobody too) must be able to empty it.
            if os.path.isdir(config.scratch):
                os.chown(config.scratch, NOBODY, NOBODY)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            prctl(PR_SET_DUMPABLE, 1)
            uid = gid = NOBODY
        except OSError as e:
            become_nobody = False
            report.missing["uid mapping"] = f"becoming uid {NOBODY}: {why(e)}"
    inside = 0 if become_nobody else uid
    try:
        unshare(CLONE_NEWUSER)
    except OSError as e:
        report.missing["user namespace"] = f"unshare(CLONE_NEWUSER): {why(e)}"
    else:
        try:
            # setgroups must be denied before an unprivileged process may write gid_map.
            if os.path.exists("/proc/self/setgroups"):
                write("/proc/self/setgroups", "deny")
            write("/proc/self/uid_map", f"{inside} {uid} 1\n")
            write("/proc/self/gid_map", f"{0 if become_nobody else gid} {gid} 1\n")
            report.active.append("user namespace")
            if become_nobody:
                report.active.append(f"uid mapping (root inside is uid {NOBODY} outside)")
            elif uid != 0:
                report.active.append(f"uid mapping (uid {uid}, an ordinary user)")
            elif "uid mapping" not in report.missing:
                plan_why = config.plan.why if config is not None else "no mount plan"
                report.missing["uid mapping"] = f"root stays uid 0 outside ({plan_why})"
        except OSError as e:
            report.missing["user namespace"] = f"writing the id maps: {why(e)}"
    # Separately, so that one refusal does not cost the other protection. The IPC namespace:
    # System V shared memory and message queues outlive every process that made them, so a
    # cell could leave memory behind that no session cap counts; in its own IPC namespace
    # they go when the session's last process does.
    for flag, name in (
        (CLONE_NEWNET, "network namespace"),
        (CLONE_NEWIPC, "ipc namespace"),
        (CLONE_NEWPID, "pid namespace"),
    ):
        try:
            unshare(flag)
            report.active.append(name)
        except OSError as e:
            report.missing[name] = f"unshare: {why(e)}"
    _own_hostname(report)


def _own_hostname(report: SandboxReport) -> None:
    """A UTS namespace of the session's own: the cell sees HOSTNAME, not the machine's name."""
    try:
        unshare(CLONE_NEWUTS)
        socket.sethostname(HOSTNAME)
        setdomainname(HOSTNAME_DOMAIN)
        report.active.append(f"uts namespace (hostname {HOSTNAME})")
    except OSError as e:
        report.missing["uts namespace"] = f"{why(e)} (the cell sees the machine's hostname)"
