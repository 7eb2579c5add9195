"""A real engine: a single-node Slurm cluster (Debian's slurmctld, slurmd and munge), started
here with a private configuration, state and munge key, runs a 3-task job array; each task
runs wcmem-sandbox --shard auto on its share of a suite that holds one hog. The hog's shard
loses the hog alone, the other shards are untouched, and the shards' logs and reports make
one run with every test once. Everything started is stopped by its pid, and the folder
removed. `make check-slurm` runs it (etc/deps.sh slurm installs the packages)."""
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

BIN = os.path.abspath(os.environ.get("WCMEM_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "wcmem-sandbox"))
DAEMONS = ("munged", "slurmctld", "slurmd")
SUITE = '''import pytest


@pytest.mark.parametrize("n", range(19))
def test_small(n):
    assert sum(range(n + 1)) == n * (n + 1) // 2


def test_hog():
    hog = []
    while True:
        hog.append(bytearray(16 << 20))
'''
TESTS = sorted([f"test_suite.py::test_small[{n}]" for n in range(19)] +
               ["test_suite.py::test_hog"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_line(host):
    """This machine as slurmd sees it (CPUs, RealMemory), named host, at 127.0.0.1."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    first = out.splitlines()[0]
    cpus = re.search(r"\bCPUs=(\d+)", first).group(1)
    return f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1024 State=UNKNOWN"


def write_config(d, host):
    conf = d / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=wcmemtest",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={free_port()}",
        f"SlurmdPort={free_port()}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        f"AuthInfo=socket={d}/munge/sock",
        "CredType=cred/munge",
        f"StateSaveLocation={d}/state",
        f"SlurmdSpoolDir={d}/spool",
        f"SlurmctldPidFile={d}/slurmctld.pid",
        f"SlurmdPidFile={d}/slurmd.pid",
        f"SlurmctldLogFile={d}/slurmctld.log",
        f"SlurmdLogFile={d}/slurmd.log",
        # The tasks' processes are found by their parents, not put in cgroups of Slurm's:
        # the cgroups are wcmem-sandbox's to make.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "SchedulerType=sched/builtin",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "MpiDefault=none",
        "ReturnToService=2",
        node_line(host),
        f"PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP",
        ""]))
    return str(conf)


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s")


@pytest.fixture
def cluster(tmp_path):
    """A running cluster: (slurm.conf, its folder). Its daemons are stopped, by pid, after."""
    missing = [d for d in DAEMONS if not shutil.which(d)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run etc/deps.sh slurm (Debian's slurmctld, "
                    "slurmd, slurm-client, munge)")
    d = tmp_path / "slurm"
    for sub in ("munge", "state", "spool", "out"):
        (d / sub).mkdir(parents=True)
    (d / "munge").chmod(0o711)  # munged: the socket's folder searchable, nothing else
    key = d / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    host = socket.gethostname().split(".")[0]
    conf = write_config(d, host)
    env = dict(os.environ, SLURM_CONF=conf)
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["munged", "-F", "-f", f"--key-file={key}", f"--socket={d}/munge/sock",
             f"--pid-file={d}/munge/pid", f"--log-file={d}/munge/log",
             f"--seed-file={d}/munge/seed"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(f"{d}/munge/sock"), "munged's socket")
        procs.append(subprocess.Popen(["slurmctld", "-D", "-f", conf], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["slurmd", "-D", "-f", conf, "-N", host], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def idle():
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True,
                                 text=True).stdout
            return out.strip() == "idle"
        wait_for(idle, "the node idle in sinfo")
        yield conf, d
    finally:
        for p in reversed(procs):  # ours alone, by pid: slurmd, slurmctld, then munged
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_job_array_runs_each_shard_and_one_report_after(cluster, tmp_path):
    conf, d = cluster
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_suite.py").write_text(SUITE)
    out = d / "out"
    script = tmp_path / "shard.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"cd {suite}\n"
        f"exec {BIN} --shard auto --limit 512M --test-limit 96M"
        f" --log {out}/shard-$SLURM_ARRAY_TASK_ID.log"
        f" --json {out}/shard-$SLURM_ARRAY_TASK_ID.json"
        " -- /usr/bin/python3 -m pytest -q -p no:cacheprovider test_suite.py\n")
    script.chmod(0o755)
    env = dict(os.environ, SLURM_CONF=conf, WEATHERCOP_DIR=str(tmp_path / "wc"))
    job = subprocess.run(["sbatch", "--wait", "--array=0-2", f"--output={out}/task-%a.txt",
                          str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert "Submitted batch job" in job.stdout, job.stdout + job.stderr

    hog_shard, seen = None, []
    for task in range(3):
        text = (out / f"task-{task}.txt").read_text()
        assert f"wcmem-sandbox: shard {task + 1}/3 (SLURM_ARRAY_TASK_ID={task} of " \
               "SLURM_ARRAY_TASK_COUNT=3" in text, text
        with open(out / f"shard-{task}.log") as f:
            log = f.read()
        ended = re.findall(r"\] TEST_END: (test_suite\.py::\S+)", log)
        assert ended, f"shard {task + 1}/3 ran nothing: {text}"
        seen += ended
        if "test_suite.py::test_hog" in ended:
            hog_shard = task
            assert "1 failed" in text and "OOM-killed" in text, text
            assert log.count("  OOM: killed") == 1, log
        else:  # untouched by the hog: every test passed, nothing killed
            assert " passed" in text and " failed" not in text, text
            assert "OOM: " not in log and "OOM-killed: 0" in log, log
    assert hog_shard is not None
    assert sorted(seen) == TESTS

    logs = [str(out / f"shard-{t}.log") for t in range(3)]
    answer = subprocess.run([BIN, "analyze", *logs], capture_output=True, text=True)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "one run in 3 shards: 3 of them read" in answer.stdout, answer.stdout
    assert "== OOM-killed: 1\n" in answer.stdout
    assert re.search(r"test_suite\.py::test_hog OOM-killed", answer.stdout), answer.stdout

    merged = subprocess.run([BIN, "merge", *(str(out / f"shard-{t}.json") for t in range(3))],
                            capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    units = json.loads(merged.stdout)["units"]
    assert sorted(u["name"] for u in units if u["kind"] == "test") == TESTS
    (hog,) = [u for u in units if u["name"] == "test_suite.py::test_hog"]
    assert hog["oom"] == "own" and hog["report"] == hog_shard + 1
