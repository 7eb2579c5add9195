"""A reader that knows only the format of WeatherCop's Memory Diagnostics Guide, written from
the rules in etc/log-format.md ("Rules for a guide reader"): what existing analysis scripts
see in our log."""


def tests(text):
    """[[test name, peak in MB or None], ...]: every test the log holds, in log order."""
    found, entry = [], None
    for line in text.splitlines():
        if line.startswith("["):
            event, _, name = line.split("]", 1)[1].strip().partition(":")
            entry = [name.strip(), None] if event.strip() == "TEST_END" else None
            if entry is not None:
                found.append(entry)
        elif entry is not None and line.strip().startswith("Peak memory:"):
            entry[1] = float(line.split(":")[-1].split()[0])
    return found
