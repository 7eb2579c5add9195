"""A sandboxed test is untrusted code: what it sends over the control socket, or does to
the processes around it, must never reach outside the sandbox, grow the runner without
bound, or make the records wrong."""
import json
import os

from conftest import BIN, CLIENT_PRELUDE as ASK



def test_a_unit_whose_setup_failed_is_an_error_with_the_reason(sandbox, tmp_path):
    # A limit the kernel will not hold (v1 clamps it, v2 reads it back as max): the unit
    # cannot be set up. It is recorded as not started, with why, never as exited 0.
    code = ASK + ("print(ask(b'HELLO 1\\n'))\n"
                  "print(ask(b'START big limit=9223372036854771712 kind=command\\n'))\n")
    report = tmp_path / "r.json"
    run = sandbox.run("--limit", "256M", "--json", str(report), "--",
                      *sandbox.python(code))
    assert run.rc == 0, run.stderr
    assert run.stdout.splitlines()[1].startswith("ERR 500 "), run.stdout
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "big")
    assert end.value("Exit") == "not started (code 125)", run.log_text
    assert "the limit did not apply" in end.value("Error"), run.log_text
    unit = next(u for u in json.loads(report.read_text())["units"] if u["name"] == "big")
    assert unit["exit"]["end"] == "not_run" and unit["outcome"] != "passed", unit
    assert unit["verdict"].startswith("not started: "), unit
    (row,) = [line for line in run.stderr.splitlines() if line.startswith("  big ")]
    assert "not started: " in row and "exited" not in row, run.stderr


def test_a_nested_exit_code_is_never_taken_for_a_signal(sandbox):
    inner = (f"{BIN} --name e255 -- sh -c 'exit 255'; {BIN} --name e200 -- sh -c 'exit 200'; "
             f"{BIN} --name k15 -- sh -c 'kill -TERM $$'; true {sandbox.marker}")
    run = sandbox.run("--limit", "256M", "--no-plugin", "--", "sh", "-c", inner)
    assert run.rc == 0, run.stderr
    ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
    assert ends["e255"].value("Exit") == "code 255"
    assert ends["e200"].value("Exit") == "code 200"
    assert ends["k15"].value("Exit") == "signal 15 (SIGTERM)"
