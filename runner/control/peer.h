/* Who is at the other end of a control connection, proven at the moment of acting: a pid
 * names whatever process holds that number now; a pidfd names one process for good. */
#ifndef WCMEM_RUNNER_CONTROL_PEER_H
#define WCMEM_RUNNER_CONTROL_PEER_H

#include <stdbool.h>
#include <sys/types.h>

/* A pidfd for the process that connected the socket fd, and its pid in *pid:
 * SO_PEERPIDFD (6.5), else SO_PEERCRED and pidfd_open (5.3), the answer of the probe kept.
 * Past the fallback's pidfd_open the caller must still prove the process is the one it
 * means (run_peer_alive after checking what it knows of the pid). Returns the pidfd, or
 * -errno (-ESRCH: the process that connected is gone). */
int run_peer_open(int fd, pid_t *pid);

/* 1 while the process of pidfd lives (a zombie counts: its pid is not free yet), so that
 * whatever was read about its pid before this call was read about it. 0 once it is gone. */
bool run_peer_alive(int pidfd);

/* 1 when the process is exiting (Linux sets PF_EXITING before it closes the process's
 * files, so a connection's end seen because the process dies finds it set) or gone, or
 * when that cannot be told; 0 when it lives on. */
bool run_peer_exiting(pid_t pid, int pidfd);

/* The flags field of /proc/PID/stat text. Returns 0, or -EINVAL. Pure. */
int run_stat_flags(const char *text, unsigned long *flags);

/* The parent's pid (ppid) in /proc/PID/stat text. Returns 0, or -EINVAL. Pure. */
int run_stat_ppid(const char *text, pid_t *ppid);

/* The parent of the process of pidfd, in *ppid; read while it lives, so that it is its
 * parent's. Returns 0, or -ESRCH (gone) or -EINVAL. */
int run_peer_parent(pid_t pid, int pidfd, pid_t *ppid);

/* The inode of the socket at the other end of the connected Unix socket fd (sock_diag's
 * UNIX_DIAG_PEER, 3.3). Returns 0, or -errno (-ENOENT: no such socket or peer). */
int run_peer_socket(int fd, unsigned long *ino);

/* Whether process pid holds the socket ino in one of its descriptors: first at *hint (the
 * descriptor it was last seen at; -1: none), else at any (*hint then updated). Proven by
 * pidfd after the reading. Returns 1, 0, or -errno (-ESRCH: the process is gone). */
int run_peer_holds(pid_t pid, int pidfd, unsigned long ino, int *hint);

#endif
