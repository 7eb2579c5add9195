"""The control protocol as the plugin speaks it (runner/control/PROTOCOL.md).

The RUN_* values, the verbs with the fields each may carry, the characters a field keeps
as they are, the WAKE line, START's next= and the resume file's words are the runner's
(runner/control/protocol.h and the C files beside it), under the same names here:
tests/plugin_check.py (make check-graph) fails when the two differ. The rest are the
plugin's own bounds, chosen to stay inside the runner's.
"""
import hashlib
import urllib.parse

RUN_PROTOCOL_VERSION = 1
RUN_LINE_MAX = 65536    # bytes of a line, its newline included
RUN_NAME_MAX = 8192     # bytes of a decoded name: the runner refuses a longer one
RUN_EXTRAS_MAX = 16384  # bytes of decoded extras: the runner refuses longer ones
RUN_FAILURE_MAX = 4096  # bytes of a decoded message or failure: the runner refuses longer

# Each verb a client sends, with the key=value fields it may carry (any other is refused).
OPTIONS = {
    "HELLO": ("records",),
    "START": ("kind", "limit", "leaks", "where", "extras", "keep", "moved"),
    "END": ("outcome", "status", "signal", "extras", "reports", "message", "failure"),
    "VERDICT": ("requeue",),
    "USAGE": (),
    "NOTE": ("extras",),
    "RESUME": (),
    "TOP": (),
    "ROOM": (),
    "STANDBY": (),
}
WAKE = "WAKE "      # the line that wakes a copy standing by (STANDBY), then the resume file
NEXT = " next="     # in START's answer: the cgroup.procs of the unit kept for the next START
ROOM = "room=1"     # in HELLO's answer: STARTs wait for room by memory; ROOM may be asked
AGAIN = " again=1"  # in VERDICT requeue=1's answer: run the test again, it was not its fault
RESUME_DONE, RESUME_KILLED = "DONE", "KILLED"  # the kinds of a resume file's lines
PLAIN = "-_.:/[]=,()@+"  # besides letters and digits, what a field keeps unencoded

# What one line may carry, so that START and END always fit RUN_LINE_MAX (the runner refuses
# longer names and extras): a name and its where (percent-encoded: up to 3 bytes a byte),
# the extras, the reports, and (END's, instead of where) the failure's message and text;
# 12 + 7.5 + 12 + 24 KiB. tests/plugin_check.py adds them up.
ID_MAX = 4096      # bytes of a test id, UTF-8; a longer one is cut (short_id)
ID_HEAD = 4000     # bytes of a cut id kept as they are
WHERE_MAX = 1024     # bytes of "path:line"
EXTRAS_MAX = 4096    # characters of the extras...
EXTRAS_SENT_MAX = 12288  # ...and bytes of them encoded
MESSAGE_MAX = 512    # bytes of a failure's or skip's message (UTF-8)...
FAILURE_MAX = 2048   # ...and of the end of a failure's text
FAILURE_SENT_MAX = 7680  # both, encoded
REPORTS_MAX = RUN_LINE_MAX // 2 - 8192


# surrogateescape both ways: a node ID from a file name that is not UTF-8 goes to the runner
# as its bytes and comes back (resume file, verdicts) as the same string.
def encode(text):
    if text.isascii():  # most of what is sent, and quote() costs microseconds a field
        return text.translate(_ASCII_QUOTED)
    return urllib.parse.quote(text, safe=PLAIN, errors="surrogateescape")


# quote()'s own answer for each ASCII character it changes: the fast path says the same.
_ASCII_QUOTED = {c: urllib.parse.quote(chr(c), safe=PLAIN) for c in range(128)
                 if urllib.parse.quote(chr(c), safe=PLAIN) != chr(c)}


def decode(text):
    return urllib.parse.unquote(text, errors="surrogateescape")


def short_id(nodeid):
    """The test id as the runner knows it: unchanged up to ID_MAX bytes; a longer one is
    its first ID_HEAD bytes (whole characters), then " ...[N bytes, sha256 HEX12]". The same
    id always gives the same name, so a resumed run still finds the test."""
    raw = nodeid.encode("utf-8", "surrogateescape")
    if len(raw) <= ID_MAX:
        return nodeid
    head = raw[:ID_HEAD].decode("utf-8", "ignore")
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return f"{head} ...[{len(raw)} bytes, sha256 {digest}]"


def verdict_of(answer):
    """VERDICT's answer as (verdict text, peak in bytes or None, whether to run it again)."""
    again = answer.endswith(AGAIN)
    text, _, peak = answer[:-len(AGAIN) if again else None].partition(" peak=")
    return decode(text), int(peak) if peak.isdigit() else None, again
