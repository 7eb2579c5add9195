"""A test's pytest reports and warnings as one word for END, and back for a resumed run.

The runner keeps the word opaque (END's reports=, PROTOCOL.md); a resumed run replays it.
"""
import base64
import json
import sys

from .protocol import FAILURE_MAX, MESSAGE_MAX, REPORTS_MAX


class KilledText(str):
    """The runner's verdict on a killed test, as a failure's text: pytest's short summary
    and junit's message take its reprcrash's message ("FAILED id - OOM-killed: ...")."""

    @property
    def reprcrash(self):
        return self

    @property
    def message(self):
        return str(self)


def _tail(text, limit):
    """At most about limit characters of text: a longer one keeps its end."""
    if text is None or len(text) <= limit:
        return text
    return f"(cut: {len(text)} characters)\n" + text[-limit:]


def _blob(reports, warnings):
    return base64.b64encode(json.dumps({"reports": reports, "warnings": warnings})
                            .encode()).decode()


def warning_to(message):
    """A warnings.WarningMessage as JSON can carry it."""
    category = message.category
    return [category.__module__, category.__qualname__, message.filename, message.lineno,
            str(message.message), message.line]


_categories = {}


def warning_from(fields):
    """The WarningMessage that warning_to took apart: its category the class of that name
    where it can be imported without running anything new, else one made with its name
    (all pytest prints of a category)."""
    module, qualname, filename, lineno, text, line = fields
    key = (module, qualname)
    if key not in _categories:
        found = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if not (isinstance(found, type) and issubclass(found, Warning)):
            found = type(qualname.rsplit(".", 1)[-1], (Warning,), {"__module__": module})
        _categories[key] = found
    import warnings
    return warnings.WarningMessage(text, _categories[key], filename, lineno, line=line)


def outcome_of(reports):
    for rep in reports:
        if rep.failed:
            return "failed" if rep.when == "call" else "error"
    if any(rep.skipped for rep in reports):
        return "skipped"
    return "passed"


def _cut(text, limit, keep_end):
    """text in at most limit bytes of UTF-8: its start, or its end (where a traceback says
    what failed)."""
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return text
    mark = "(cut)\n"
    if keep_end:
        return mark + raw[len(raw) - limit + len(mark):].decode("utf-8", "ignore")
    return raw[:limit].decode("utf-8", "ignore")


def failure_of(reports):
    """(message, text) as pytest's own --junitxml writes a test's first failure, or its
    skip's reason (text None); (None, None) for a test that passed. The runner's JUnit
    report gives them, bounded (MESSAGE_MAX, FAILURE_MAX)."""
    for rep in reports:
        if rep.failed:
            crash = getattr(rep.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(rep.longrepr)
            if rep.when != "call":
                message = f'failed on {rep.when} with "{message}"'
            return (_cut(message, MESSAGE_MAX, False),
                    _cut(str(rep.longrepr), FAILURE_MAX, True))
    for rep in reports:
        if rep.skipped and hasattr(rep, "wasxfail"):
            return "expected test failure", None
        if rep.skipped and isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3:
            reason = str(rep.longrepr[2])
            reason = reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
            return _cut(reason, MESSAGE_MAX, False), None
    return None, None


def plain_pass(reports, warnings):
    """True when a resumed run can say all of a test with "passed": setup, call and
    teardown passed, with no output captured, no warning, no rerun, no xpass and no
    property. Anything else is sent whole (pytest's -rA, -rP and junit show it)."""
    return (len(reports) == 3 and not warnings
            and all(r.outcome == "passed" and not r.sections and not r.user_properties
                    and not hasattr(r, "wasxfail") for r in reports))


def reports_blob(config, reports, warnings, limit=REPORTS_MAX):
    """pytest's own serialization of a test's reports and its warnings (as warning_to
    makes them), base64 (fast, and one word). What does not fit a line (limit, None: no
    limit) keeps the end of each text (where a traceback says what failed) and says it was
    cut; None when even that does not fit."""
    datas = [config.hook.pytest_report_to_serializable(config=config, report=r)
             for r in reports]
    blob = _blob(datas, warnings)
    if limit is None:
        return blob
    for keep in (4000, 1000, 200):
        if len(blob) <= limit:
            break
        for d, r in zip(datas, reports):
            d["sections"] = [(title, _tail(text, keep)) for title, text in r.sections]
            if r.longrepr is not None and not isinstance(r.longrepr, tuple):
                d["longrepr"] = _tail(str(r.longrepr), keep)
        blob = _blob(datas, [w[:4] + [_tail(w[4], keep), w[5]] for w in warnings][:20])
    return blob if len(blob) <= limit else None


def reports_from_blob(config, blob):
    """The reports and warnings of reports_blob, as pytest objects."""
    data = json.loads(base64.b64decode(blob))
    hook = config.hook
    reports = []
    for d in data["reports"]:
        # JSON has no tuples: a skip's (path, line, reason) comes back a list, which
        # pytest's terminal and junitxml take for something else (and assert).
        if isinstance(d.get("longrepr"), list):
            d["longrepr"] = tuple(d["longrepr"])
        reports.append(hook.pytest_report_from_serializable(config=config, data=d))
    return reports, [warning_from(w) for w in data.get("warnings", ())]
