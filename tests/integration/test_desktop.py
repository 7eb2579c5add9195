"""Where users are: on a desktop, a blow-up must take a test, never the editor around it."""
import os

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
