"""The peak and verdict of each test as <property>s of pytest's own --junitxml: one file
for CI holds pytest's report and the sandbox's figures (etc/reports.md).

pytest writes a test's <testcase> once its teardown is reported, before the runner has
ended the test's unit (END goes with the next test's START). So the properties are added
at the end of the session, from the runner's records (VERDICT), to the <testcase> elements
pytest's junitxml holds until it writes the file.
"""
import xml.etree.ElementTree as ET

import pytest

from .client import RunnerError
from .protocol import encode, short_id, verdict_of

PEAK, VERDICT = "wcmem_peak", "wcmem_verdict"  # the property names (bytes; the verdict)


def _logxml(config):
    try:
        from _pytest.junitxml import xml_key
    except ImportError:
        return None
    return config.stash.get(xml_key, None)


def _case_key(nodeid, prefix):
    """(classname, name) of a test as pytest's junitxml writes them."""
    from _pytest.junitxml import mangle_test_address
    names = mangle_test_address(nodeid)
    classnames = ([prefix] if prefix else []) + names[:-1]
    return ".".join(classnames), names[-1]


class JunitFigures:
    def __init__(self, plugin):
        self.plugin = plugin
        self.nodeids = {}  # (classname, name) -> node id, of every test reported
        self.seen = set()

    def pytest_runtest_logreport(self, report):
        if report.nodeid in self.seen:
            return
        self.seen.add(report.nodeid)
        xml = _logxml(self.plugin.config)
        if xml is not None:
            self.nodeids.setdefault(_case_key(report.nodeid, xml.prefix), report.nodeid)

    # Around pytest's own: the test's properties are in place before junitxml writes them.
    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session):
        xml = _logxml(session.config)
        if xml is not None:
            self.plugin.pytest_sessionfinish(session)  # the END held back goes first
            self._add(xml)
        yield

    def _add(self, xml):
        answers = {}
        for reporter in xml.node_reporters_ordered:
            case = reporter.to_xml()  # the element pytest writes, once its test is done
            nodeid = self.nodeids.get((case.get("classname"), case.get("name")))
            if nodeid is None:
                continue
            if nodeid not in answers:
                answers[nodeid] = self._verdict(nodeid)
            if answers[nodeid] is None:
                continue
            verdict, peak, _ = answers[nodeid]
            found = [(PEAK, str(peak))] if peak is not None else []
            found.append((VERDICT, verdict))
            if "properties" in vars(reporter):  # not finalized (no teardown: a killed test)
                for name, value in found:
                    reporter.add_property(name, value)
                continue
            props = case.find("properties")  # finalized: the element pytest will write
            if props is None:
                props = ET.Element("properties")
                case.insert(0, props)
            for name, value in found:
                ET.SubElement(props, "property", name=name, value=value)

    def _verdict(self, nodeid):
        runner = self.plugin.runner
        if runner is None:
            return None
        for _ in range(2):  # an earlier line's refusal comes first: then ask again
            try:
                return verdict_of(runner.call("VERDICT", encode(short_id(nodeid))))
            except RunnerError as err:
                if err.closed or err.verb == "VERDICT":
                    return None  # no unit of that name (run where it was): no figures
            except OSError:
                return None
        return None
