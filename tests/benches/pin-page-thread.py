"""Give the page's thread a core of its own, for `analysis.mjs --page-core` (Linux, by hand).

    python3 tests/benches/pin-page-thread.py ROOT_PID

Every 50 ms, until ROOT_PID (the bench's Node) exits: every renderer's main thread
(the first thread of a `--type=renderer` process) runs on CPU 0 alone, and every other
thread of ROOT_PID and its descendants (Chromium's browser and GPU processes, the renderers'
workers and pools, Node itself, this script) on the other CPUs. Threads a renderer's main
thread starts inherit its CPU, so they are moved at the next pass. What it shows: how long the
page's tasks take when its thread never waits for a core, as on a machine with more cores than
busy threads, on this 2-core one.
"""

import os
import sys
import time

PAGE = {0}
OTHERS = set(range(os.cpu_count() or 2)) - PAGE


def children():
    """Each process's parent, read from /proc."""
    parent = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                # The command name may hold spaces and parentheses: the fields follow the last ')'.
                parent[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return parent


def descendants(root):
    parent = children()
    out, todo = [root], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def is_renderer(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"--type=renderer" in f.read()
    except OSError:
        return False


def place(tid, cpus):
    try:
        if os.sched_getaffinity(tid) != cpus:
            os.sched_setaffinity(tid, cpus)
    except OSError:
        pass


def main():
    root = int(sys.argv[1])
    if not OTHERS:
        sys.exit("one CPU: nothing to pin")
    place(0, OTHERS)
    while os.path.exists(f"/proc/{root}"):
        for pid in descendants(root):
            renderer = is_renderer(pid)
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                continue
            for tid in tids:
                # A renderer's main thread is its first (Chromium does not rename a main
                # thread on Linux: its name stays the process's).
                place(tid, PAGE if renderer and tid == pid else OTHERS)
        time.sleep(0.05)


main()
