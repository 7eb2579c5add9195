"""The Kubernetes recipe (etc/kubernetes-shards.yaml): an Indexed Job whose pods each run
their shard under a memory limit. Parsed as Kubernetes reads it; its command is run here as
a pod would run it, with the index the Job gives the pod."""
import os
import shlex
import subprocess

import yaml

from conftest import BIN  # noqa: F401  (the binary under test)

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "..", "..", "etc", "kubernetes-shards.yaml")
UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


def job():
    with open(MANIFEST) as f:
        docs = list(yaml.safe_load_all(f))
    assert len(docs) == 1
    return docs[0]


def size(text):
    for unit, bytes_ in UNITS.items():
        if text.endswith(unit):
            return int(text[:-len(unit)]) * bytes_
    return int(text)


def test_the_job_is_indexed_with_a_memory_limit_per_pod():
    j = job()
    assert j["apiVersion"] == "batch/v1" and j["kind"] == "Job"
    spec = j["spec"]
    assert spec["completionMode"] == "Indexed"
    count = spec["completions"]
    assert count == spec["parallelism"] == 3
    (container,) = spec["template"]["spec"]["containers"]
    limits = container["resources"]["limits"]
    assert size(limits["memory"]) >= size(container["resources"]["requests"]["memory"])
    script = container["command"][-1]
    words = shlex.split(script)
    assert words[:2] == ["exec", "wcmem-sandbox"]
    assert words[words.index("--shard") + 1] == f"auto/{count}"
    # Our limit leaves the pod room for the runner and pytest itself.
    limit = words[words.index("--limit") + 1]
    assert size(limit.replace("G", "Gi")) < size(limits["memory"])
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["WCMEM_SANDBOX_SHARD_COUNT"] == str(count)


def test_each_pods_command_runs_its_shard(tmp_path):
    # The container's command, as the pod's shell runs it, with JOB_COMPLETION_INDEX as the
    # Job sets it and the suite a small one: each pod says its shard, the three run each test
    # once.
    (container,) = job()["spec"]["template"]["spec"]["containers"]
    script = container["command"][-1].replace("/results", str(tmp_path))
    script = script.replace("wcmem-sandbox", BIN, 1).replace("--limit 3G", "--limit 512M")
    suite = tmp_path / "test_pods.py"
    suite.write_text("import pytest\n\n@pytest.mark.parametrize('n', range(9))\n"
                     "def test_n(n):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "CI_NODE_"))}
    env["WEATHERCOP_DIR"] = str(tmp_path)
    ran = []
    for index in range(3):
        script_env = dict(env, JOB_COMPLETION_INDEX=str(index))
        run = subprocess.run(["sh", "-c", script.replace(" pytest", " /usr/bin/python3 -m "
                                                          "pytest -q -p no:cacheprovider")],
                             env=script_env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"shard {index + 1}/3 (JOB_COMPLETION_INDEX={index} of 3)" in run.stderr
        with open(tmp_path / f"shard-{index}.log") as f:
            ran += [line.rstrip("\n").split("TEST_END: ", 1)[1] for line in f
                    if "TEST_END: test_" in line]
    assert sorted(ran) == sorted(f"test_pods.py::test_n[{n}]" for n in range(9))
