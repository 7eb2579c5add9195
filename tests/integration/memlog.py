"""A reader of the memory log, written the way readers in the wild read it (etc/log-format.md):
split each entry line at the first ']', then at the first ':' into event and name; take
'Peak memory:' as the first word after the last ':'. The tests parse with it, so a log that
these readers cannot read fails the tests."""
import re

ENTRY = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\] ")


class Entry:
    def __init__(self, stamp, event, name):
        self.stamp, self.event, self.name = stamp, event, name
        self.lines = []

    def value(self, key):
        """The text after 'key:' on the entry's first line that starts with it (stripped)."""
        for line in self.lines:
            s = line.strip()
            if s.startswith(key + ":"):
                return s[len(key) + 1:].strip()
        return None

    def mb(self, key):
        v = self.value(key)
        return None if v is None else float(v.split()[0])

    def __repr__(self):
        return f"<{self.event} {self.name!r}>"


def parse(text):
    entries = []
    for line in text.splitlines():
        if line.startswith("["):
            m = ENTRY.match(line)
            assert m, f"entry line without an ISO stamp: {line!r}"
            rest = line[line.index("]") + 1:].strip()
            event, _, name = rest.partition(":")
            entries.append(Entry(m.group(1), event.strip(), name.strip()))
        else:
            assert entries, f"continuation before any entry: {line!r}"
            assert line.startswith("  "), f"continuation not indented: {line!r}"
            entries[-1].lines.append(line)
    return entries


def peak_mb(entry):
    """Peak memory as the guide's analysis script reads it: after the last ':'."""
    for line in entry.lines:
        if "Peak memory:" in line:
            return float(line.split(":")[-1].split()[0])
    return None
