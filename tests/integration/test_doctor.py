"""`wcmem-sandbox doctor`: on this machine's real cgroups, whether a run would work, each
feature it lacks by name, and what to do."""
import json
import os

from conftest import BACKEND, MOUNT

V2_FEATURES = ["memory.events.local", "cgroup.kill", "clone3(CLONE_INTO_CGROUP)", "memory.high",
               "favordynmods"]


def checks(stdout):
    """{name: (status, rest of the line)} of doctor's text, and its last line."""
    lines = stdout.splitlines()
    found = {}
    for line in lines[:-1]:
        status, name, rest = line[:4], line[6:31].rstrip(), line[33:]
        assert status in ("PASS", "WARN", "FAIL"), line
        found[name] = (status, rest)
    return found, lines[-1]


def test_doctor_says_a_run_works_here_and_names_what_is_missing(sandbox):
    run = sandbox.run("doctor")
    assert run.rc == 0, run.stdout + run.stderr
    found, verdict = checks(run.stdout)
    assert verdict.startswith("wcmem-sandbox doctor: a run would work here"), verdict
    assert found["cgroup to build in"][0] == "PASS"
    assert found["memory controller"][0] == "PASS"
    if BACKEND == "v1":
        assert found["cgroup version"][0] == "WARN"
        for name in V2_FEATURES:
            status, rest = found[name]
            assert status == "WARN" and rest.startswith("cgroup v1 has none: "), (name, rest)
            assert "; to do: cgroup v2: boot with systemd.unified_cgroup_hierarchy=1" in rest
    else:
        assert found["cgroup version"] == ("PASS", f"cgroup v2 at {MOUNT}")
        for name in V2_FEATURES[:4]:  # the VM's kernel has them all
            assert found[name][0] == "PASS", (name, found[name])
    assert run.log_text is None  # doctor runs nothing, makes no cgroup


def test_doctor_json_holds_the_same_checks(sandbox):
    text = sandbox.run("doctor")
    run = sandbox.run("doctor", "--json")
    assert run.rc == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["schema"] == "wcmem-sandbox-doctor/1" and report["ok"] is True
    found, _ = checks(text.stdout)
    assert [c["name"] for c in report["checks"]] == list(found)
    # --json FILE as in a run: the JSON there, the text on standard output; "-" as alone
    path = sandbox.tmp / "doctor.json"
    run = sandbox.run("doctor", "--json", str(path))
    assert run.rc == 0 and checks(run.stdout)[0] == found, run.stdout
    assert json.loads(path.read_text())["checks"] == report["checks"]
    assert json.loads(sandbox.run("doctor", "--json", "-").stdout)["checks"] == report["checks"]
    for c in report["checks"]:
        assert c["status"].upper() == found[c["name"]][0], c
        assert found[c["name"]][1].startswith(c["found"]), c
        assert (c["todo"] is None) == ("; to do: " not in found[c["name"]][1]), c


def test_doctor_fails_without_a_writable_cgroup_and_says_how(sandbox):
    # As in test_cgroup.py: root runs doctor as nobody in its own cgroup; a user (the VM's
    # user pass) points it at the root cgroup.
    if os.geteuid() == 0:
        run = sandbox.run("doctor", uid=65534)
    else:
        run = sandbox.run("doctor", env=dict(sandbox.env, WCMEM_CGROUP_BASE=MOUNT))
    assert run.rc == 1, run.stdout + run.stderr
    found, verdict = checks(run.stdout)
    status, rest = found["cgroup to build in"]
    assert status == "FAIL" and "is not yours to write" in rest, rest
    if BACKEND == "v2":
        assert "to do: systemd-run --user --scope -p Delegate=yes" in rest
    else:  # v1 has no delegation: say what can work there
        assert "to do: cgroup v1 has no delegation (systemd-run --user cannot help): run " \
               "as root, or have root make a cgroup for you" in rest, rest
    assert verdict == "wcmem-sandbox doctor: a run would not work here: 1 check failed"


def test_doctor_names_a_bad_base(sandbox, tmp_path):
    run = sandbox.run("doctor", env=dict(sandbox.env, WCMEM_CGROUP_BASE=str(tmp_path)))
    assert run.rc == 1
    found, _ = checks(run.stdout)
    status, rest = found["cgroup"]
    assert status == "FAIL" and str(tmp_path) in rest and "WCMEM_CGROUP_BASE" in rest, rest


def test_doctor_usage_errors(sandbox):
    for args, words in [(["--bogus"], "unknown option '--bogus'"),
                        (["extra"], "doctor: unexpected argument 'extra'")]:
        run = sandbox.run("doctor", *args)
        assert run.rc == 125 and words in run.stderr, run.stderr
        assert "Try 'wcmem-sandbox doctor --help'" in run.stderr
    run = sandbox.run("doctor", "--help")
    assert run.rc == 0 and "--json" in run.stdout
