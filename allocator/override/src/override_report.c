/*
 * override_report.c - what libfio-malloc.so tells the user about itself.
 *
 *   FIO_MALLOC_STATS=1    at exit, the allocator's statistics snapshot on stderr
 *   FIO_MALLOC_VERBOSE=1  one line on stderr when the library starts serving a process,
 *                         and the statistics at exit
 *
 * Both are read once, by the library's constructor; any value other than 0 or 1 is
 * reported and ignored. Output goes to stderr with write(2), one report per process (a
 * forked child that exits reports for itself).
 *
 * Many programs close their stderr on the way out (coreutils check that it flushed), so
 * when a report is due the constructor keeps a close-on-exec duplicate of stderr at a high
 * descriptor number, and the report goes there if it still refers to the same file;
 * otherwise to whatever descriptor 2 is then.
 *
 * The statistics are printed by the library's destructor. The dynamic linker runs
 * destructors in the reverse order of initialisation and the shim depends on libc alone,
 * so it runs after the program's and the other libraries' destructors have freed what
 * they free: the snapshot is the process's final state. A process that ends in _exit(2),
 * exec or a signal prints nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fio/fio_malloc.h"

static int report_stats_at_exit;

/* The duplicate of stderr taken at start, and the file it referred to. */
static int report_fd = -1;
static dev_t report_dev;
static ino_t report_ino;

static void report_write(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, text, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    text += written;
    length -= (size_t)written;
  }
}

static void report_line(int fd, const char *line) {
  report_write(fd, line, strlen(line));
}

static void report_keep_stderr(void) {
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return;
  /* Far above the descriptors programs expect to get from open(). */
  int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 100);
  if (fd < 0) fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return;
  report_fd = fd, report_dev = st.st_dev, report_ino = st.st_ino;
}

/* The saved stderr while it still refers to the file it did at start (the program may
 * have closed it, and the number may have been reused since), otherwise descriptor 2. */
static int report_exit_fd(void) {
  struct stat st;
  if (report_fd >= 0 && fstat(report_fd, &st) == 0 && st.st_dev == report_dev &&
      st.st_ino == report_ino)
    return report_fd;
  return STDERR_FILENO;
}

/* 1 or 0 for a variable set to "1" or "0"; 0 when unset or empty; otherwise the value is
 * reported as malformed and treated as 0. */
static int report_flag(const char *name) {
  const char *value = getenv(name);
  if (value == NULL || value[0] == '\0' || strcmp(value, "0") == 0) return 0;
  if (strcmp(value, "1") == 0) return 1;
  char line[256];
  snprintf(line, sizeof line, "fio-malloc: ignoring %s='%.64s' (accepted: 0 or 1)\n", name, value);
  report_line(STDERR_FILENO, line);
  return 0;
}

__attribute__((constructor)) static void report_init(void) {
  int saved_errno = errno;
  int verbose = report_flag("FIO_MALLOC_VERBOSE");
  int stats = report_flag("FIO_MALLOC_STATS");
  report_stats_at_exit = verbose || stats;
  if (report_stats_at_exit) report_keep_stderr();
  if (verbose) {
    char line[512];
    snprintf(line, sizeof line, "fio-malloc: %s serving pid %ld (%s)\n", fio_malloc_version(),
             (long)getpid(), program_invocation_short_name);
    report_line(STDERR_FILENO, line);
  }
  errno = saved_errno;
}

__attribute__((destructor)) static void report_fini(void) {
  if (!report_stats_at_exit) return;
  int saved_errno = errno;
  int fd = report_exit_fd();
  char line[256];
  snprintf(line, sizeof line, "fio-malloc: statistics of pid %ld (%s) at exit\n", (long)getpid(),
           program_invocation_short_name);
  report_line(fd, line);
  fio_malloc_stats_print(fd);
  errno = saved_errno;
}
