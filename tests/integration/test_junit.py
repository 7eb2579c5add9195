"""Differential: our --junit-xml names every test as pytest's own --junitxml does.

A suite with classes (one inside another), parameters whose ids hold "::" and "/", a
failure, a skip and a test the OOM killer takes runs under the sandbox with both reports
on, and plain without the hog: the (classname, name) of each test, the failures counted,
a failure's own text, and the peak and verdict added to pytest's file, are compared."""
import subprocess
import xml.etree.ElementTree as ET

PY = "/usr/bin/python3"
ARGS = ["-p", "no:cacheprovider", "-p", "no:randomly", "-q"]

SUITE = '''import pytest


class TestOuter:
    class TestInner:
        @pytest.mark.parametrize("p", ["a::b", "c/d", "e[f]::g/h"])
        def test_x(self, p):
            assert p != "c/d", "slash in " + p


def test_skip():
    pytest.skip("no network here")


def test_fail():
    value = 41
    assert value == 42


def test_hog():
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))
'''


def cases(path):
    root = ET.parse(path).getroot()
    return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


def failures(path):
    """The failures the file counts, over all its suites."""
    return sum(int(s.get("failures")) for s in ET.parse(path).getroot().iter("testsuite"))


def write_suite(tmp_path):
    (tmp_path / "tests" / "deep").mkdir(parents=True)
    (tmp_path / "tests" / "deep" / "test_names.py").write_text(SUITE)


def test_our_junit_names_tests_as_pytests_own(sandbox, tmp_path):
    write_suite(tmp_path)
    plain = subprocess.run([PY, "-m", "pytest", *ARGS, "-k", "not test_hog",
                            f"--junitxml={tmp_path / 'plain.xml'}", "tests"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    run = sandbox.run("--limit", "1G", "--test-limit", "160M",
                      "--junit-xml", str(tmp_path / "ours.xml"), "--",
                      PY, "-m", "pytest", *ARGS, f"--junitxml={tmp_path / 'theirs.xml'}",
                      "tests", cwd=tmp_path, timeout=600)
    assert run.rc == 1, run.stdout + run.stderr
    ours, theirs = cases(tmp_path / "ours.xml"), cases(tmp_path / "theirs.xml")
    hog = ("tests.deep.test_names", "test_hog")
    assert set(ours) == set(theirs) == set(cases(tmp_path / "plain.xml")) | {hog}, \
        (sorted(ours), sorted(theirs))
    assert ("tests.deep.test_names.TestOuter.TestInner", "test_x[e[f]::g/h]") in ours
    # the command that ran pytest is no test: the failures are the tests' alone
    assert failures(tmp_path / "ours.xml") == failures(tmp_path / "theirs.xml") == 3
    # a failure says what pytest says, then the sandbox's verdict and figures
    fail = ours[("tests.deep.test_names", "test_fail")].find("failure")
    expected = theirs[("tests.deep.test_names", "test_fail")].find("failure")
    assert fail.get("message") == expected.get("message") == "assert 41 == 42"
    assert "assert value == 42" in fail.text and "wcmem-sandbox: failed" in fail.text, fail.text
    assert ours[hog].find("failure").get("type") == "oom"
    skip = ours[("tests.deep.test_names", "test_skip")].find("skipped")
    assert skip.get("message") == "no network here"
    # pytest's own file carries the peak and verdict of every test, the killed one's too
    for key, case in theirs.items():
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert int(props["wcmem_peak"]) > 0, (key, props)
        assert props["wcmem_verdict"].startswith(
            "OOM-killed: " if key == hog else ("failed", "passed", "skipped")), (key, props)
