/* The four memory fields of /proc/PID/status. */
#include "report/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rep_status_clear(struct rep_status *s)
{
	s->vm_peak = -1;
	s->vm_size = -1;
	s->vm_hwm = -1;
	s->vm_rss = -1;
}

/* Parses the value of a "Key:\t   1234 kB" line at p (just past the colon).
 * Returns the value, or -1 when it is not a number. */
static long parse_kb(const char *p)
{
	char *end;
	long v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	return v;
}

int rep_status_parse(const char *text, struct rep_status *out)
{
	const struct { const char *key; long *field; } keys[] = {
		{ "VmPeak:", &out->vm_peak },
		{ "VmSize:", &out->vm_size },
		{ "VmHWM:",  &out->vm_hwm },
		{ "VmRSS:",  &out->vm_rss },
	};
	int found = 0;

	rep_status_clear(out);
	for (const char *line = text; line && *line; ) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t len = strlen(keys[i].key);
			long v;

			if (strncmp(line, keys[i].key, len) != 0 || *keys[i].field != -1)
				continue;
			v = parse_kb(line + len);
			if (v >= 0) {
				*keys[i].field = v;
				found++;
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return found;
}

int rep_status_read(int pid, struct rep_status *out)
{
	char path[64];
	int fd, r;

	rep_status_clear(out);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = rep_status_read_fd(fd, out);
	close(fd);
	return r;
}

int rep_status_read_fd(int fd, struct rep_status *out)
{
	char buf[8192];
	size_t len = 0;
	int err = 0;

	rep_status_clear(out);
	/* The Vm lines come early (line 17 or so); a longer file (a huge Groups: line) is
	 * cut at the buffer's end, which only loses lines we do not read. From offset 0 the
	 * kernel makes the file anew: one descriptor serves every reading. */
	while (len < sizeof(buf) - 1) {
		size_t want = sizeof(buf) - 1 - len;
		ssize_t n = pread(fd, buf + len, want, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;  /* ESRCH: the process is gone */
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* The kernel makes the whole file at the first read (seq_file): a short read is
		 * its end, and the read that would say so is a system call a test saved. */
		if ((size_t)n < want)
			break;
	}
	if (err)
		return -err;
	buf[len] = '\0';
	return rep_status_parse(buf, out);
}
