"""The memory counters of the cgroup this process is in, read from cgroupfs (v1 or v2)."""
import os


class UnitMemory:
    """The memory counters of the cgroup this process is in, read from cgroupfs: its
    memory.current and its peak (cgroup v2's memory.peak, Linux 5.19, else the current;
    v1's usage_in_bytes and max_usage_in_bytes). Opening cgroup files costs some 0.1 ms, so
    only what is opt-in or rare (a broader fixture's setup) reads them."""

    def __init__(self):
        self.mounts = None  # {"v1": (root, mount point), "v2": (...)}

    def _mounts(self):
        if self.mounts is None:
            self.mounts = {}
            for kind in ("v1", "v2"):
                found = _memory_mount(kind == "v1")
                if found:
                    self.mounts[kind] = (found[1], found[0])
        return self.mounts

    def folder(self):
        """("v1" or "v2", the folder of our memory cgroup), or None."""
        mounts = self._mounts()
        with open("/proc/self/cgroup") as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
        for hid, ctrls, path in lines:
            kind = "v1" if "memory" in ctrls.split(",") else "v2" if hid == "0" else None
            if kind == "v2" and "v1" in mounts:
                continue  # v1-hybrid: memory is the v1 hierarchy's
            if kind and kind in mounts:
                root, point = mounts[kind]
                ns_root = os.environ.get("WCMEM_SANDBOX_CGROUPNS", "")
                if root.startswith("/..") and ns_root.startswith(point + "/"):
                    # In the sandbox's cgroup namespace (cgroup v2): path starts at the
                    # sandbox, whose folder the runner names; the mount shows the whole tree.
                    root, point = "/", ns_root
                if root != "/":
                    if not (path == root or path.startswith(root + "/")):
                        return None  # not below what this mount shows
                    path = path[len(root):]
                return kind, point + path if path not in ("", "/") else point
        return None

    def read(self):
        """(current, peak) in bytes, or None when it cannot be read."""
        try:
            kind, folder = self.folder()
            names = (("memory.usage_in_bytes", "memory.max_usage_in_bytes") if kind == "v1"
                     else ("memory.current", "memory.peak"))
            values = []
            for name in names:
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        values.append(int(f.read()))
                except FileNotFoundError:  # memory.peak before Linux 5.19
                    values.append(values[0])
            return values[0], max(values)
        except (OSError, ValueError, TypeError):
            return None


def _memory_mount(v1):
    """(mount point, root) of the memory controller's hierarchy from /proc/self/mountinfo:
    cgroup v1's memory, else cgroup2. None when there is none."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields, rest = head.split(), tail.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            if (v1 and rest[0] == "cgroup" and "memory" in rest[2].split(",")) or \
                    (not v1 and rest[0] == "cgroup2"):
                # mountinfo writes a blank in a path as \040
                return fields[4].replace("\\040", " "), fields[3].replace("\\040", " ")
    return None
