"""Where users are: on a desktop, a blow-up must take a test, never the editor around it."""
import json
import os

from conftest import BACKEND, allocate

from test_profiles import env, wcmem, write_ini

# The command prints its own oom_score_adj, its child's, and its parent's (the runner's).
SHOW_ADJ = ("cat /proc/self/oom_score_adj; sh -c 'cat /proc/self/oom_score_adj'; "
            "cat /proc/$PPID/oom_score_adj")


def own_adj():
    with open("/proc/self/oom_score_adj") as f:
        return f.read().strip()


def adjs(run):
    assert run.rc == 0, run.stderr
    return run.stdout.split()


def test_every_process_in_the_sandbox_is_picked_first_by_a_global_oom(sandbox):
    # The command and what it starts have the most oom_score_adj; the runner keeps its own.
    run = sandbox.run("-q", "--limit", "64M", "--", "sh", "-c", SHOW_ADJ, sandbox.marker)
    assert adjs(run) == ["1000", "1000", own_adj()]
    assert "warning" not in run.stderr


def test_no_oom_score_adj_leaves_it_as_it_was(sandbox):
    run = sandbox.run("-q", "--limit", "64M", "--no-oom-score-adj", "--", "sh", "-c",
                      SHOW_ADJ, sandbox.marker)
    assert adjs(run) == [own_adj()] * 3


def test_profile_turns_it_off_and_the_command_line_back_on(sandbox):
    path = write_ini(sandbox, "[defaults]\noom_score_adj = no\n")
    off = wcmem(sandbox, "-q", "--config", path, "--limit", "64M", "--", "sh", "-c",
                SHOW_ADJ, sandbox.marker)
    assert adjs(off) == [own_adj()] * 3
    on = wcmem(sandbox, "-q", "--config", path, "--oom-score-adj", "--limit", "64M", "--",
               "sh", "-c", SHOW_ADJ, sandbox.marker)
    assert adjs(on) == ["1000", "1000", own_adj()]
    shown = wcmem(sandbox, "config", "--config", path)
    assert f"oom_score_adj = no             ; [defaults] {path}:2" in shown.stdout


def test_oom_score_adj_takes_yes_or_no(sandbox):
    path = write_ini(sandbox, "[defaults]\noom_score_adj = 500\n")
    run = wcmem(sandbox, "--config", path, "--", "true")
    assert run.rc == 125
    assert f"{os.path.basename(path)}:2: oom_score_adj: invalid value '500' (yes or no)" \
        in run.stderr, run.stderr


# The built-in limit: what is free when the run starts, less a reserve.

MIB = 1 << 20


def reserve():
    """10% of physical memory, at most 1 GiB (runner/config/default_limit.h)."""
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return min(physical // 100 * 10, 1 << 30)


def enclosing(sandbox, room_mb):
    """A cgroup to build in whose limit leaves room_mb MiB above the reserve."""
    path = sandbox.fresh_cgroup()
    limit = (reserve() + room_mb * MIB + 4095) // 4096 * 4096
    name = "memory.max" if BACKEND == "v2" else "memory.limit_in_bytes"
    with open(os.path.join(path, name), "w") as f:
        f.write(str(limit))
    return path, limit


def mb(n):
    return f"{n / MIB:.1f} MB"


def test_default_limit_is_the_enclosing_headroom_less_a_reserve(sandbox):
    base, limit = enclosing(sandbox, 256)
    e = dict(env(sandbox), WCMEM_CGROUP_BASE=base)
    origin = f"the enclosing cgroup's headroom {mb(limit)} less a {mb(reserve())} reserve"

    shown = wcmem(sandbox, "config", env=e)
    assert f"limit        = 256M           ; built in: {origin}\n" in shown.stdout, shown.stdout
    assert "test_limit   = 256M           ; built in: the limit\n" in shown.stdout

    # The runner starts elsewhere, so that the headroom is the limit's own.
    run = wcmem(sandbox, "--", "true", env=e)
    assert run.rc == 0, run.stderr
    assert run.entry("SESSION_START").value("memory.max") == "256.0 MB"
    assert f"the limit 256.0 MB is the default: {origin}; --limit SIZE sets another" \
        in run.stderr, run.stderr

    # The JSON report says where the limit came from too, for programs.
    report = sandbox.tmp / "report.json"
    run = wcmem(sandbox, "--json", str(report), "--", "true", env=e)
    assert run.rc == 0, run.stderr
    said = run.stderr.split("is the default: ")[1].split("; --limit SIZE")[0]
    assert said.startswith("the enclosing cgroup's headroom "), run.stderr
    assert json.loads(report.read_text())["session"]["limit_origin"] == said


def test_default_limit_is_enforced(sandbox):
    base, _ = enclosing(sandbox, 128)
    e = dict(env(sandbox), WCMEM_CGROUP_BASE=base)
    run = wcmem(sandbox, "--", *sandbox.python(allocate(400)), env=e)
    assert run.rc == 137, run.stderr
    assert "limit 128.0 MB" in run.stderr and "is the default" in run.stderr


def test_a_given_limit_is_not_called_the_default(sandbox):
    report = sandbox.tmp / "report.json"
    run = sandbox.run("--limit", "64M", "--json", str(report), "--", "true")
    assert run.rc == 0, run.stderr
    assert "is the default" not in run.stderr
    assert json.loads(report.read_text())["session"]["limit_origin"] is None
    shown = wcmem(sandbox, "config", "--limit", "64M")
    assert "limit        = 64M            ; command line\n" in shown.stdout
