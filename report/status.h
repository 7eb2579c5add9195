/* /proc/PID/status: the four memory fields the guide's log shows. */
#ifndef WCMEM_REPORT_STATUS_H
#define WCMEM_REPORT_STATUS_H

#include "report/record.h"

/* Parses the text of a /proc/PID/status file. Fields that are absent stay -1
 * (a zombie or kernel thread has no Vm* lines). Returns the number of fields found. */
int rep_status_parse(const char *text, struct rep_status *out);

/* Reads /proc/PID/status. Returns the number of fields found, or -errno. */
int rep_status_read(int pid, struct rep_status *out);

/* The same through a descriptor of /proc/PID/status kept open: one pread(2) a reading, and
 * always the process it was opened for (-ESRCH once it is gone, whoever has its pid now). */
int rep_status_read_fd(int fd, struct rep_status *out);

/* Sets all four fields to -1 (unknown). */
void rep_status_clear(struct rep_status *s);

#endif
