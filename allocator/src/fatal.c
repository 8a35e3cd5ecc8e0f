/*
 * fatal.c - reporting a broken invariant or a bad pointer: one line on stderr, written
 * without allocating, then abort.
 */
#include "config.h"

#include "os.h"

static void fio_put_hex(char *buf, size_t *len, uintptr_t v) {
  static const char digits[] = "0123456789abcdef";
  buf[(*len)++] = '0';
  buf[(*len)++] = 'x';
  int shift = (int)(sizeof(v) * 8) - 4;
  while (shift > 0 && !((v >> shift) & 15)) shift -= 4;
  for (; shift >= 0; shift -= 4) buf[(*len)++] = digits[(v >> shift) & 15];
}

static void fio_put(char *buf, size_t *len, size_t cap, const char *s) {
  while (*s && *len < cap) buf[(*len)++] = *s++;
}

_Noreturn void fio_fatal_op(const char *op, const char *what, const void *ptr) {
  char buf[512];
  size_t len = 0, cap = sizeof(buf) - 24;
  fio_put(buf, &len, cap, "fio_malloc: ");
  if (op) {
    fio_put(buf, &len, cap, op);
    fio_put(buf, &len, cap, ": ");
  }
  fio_put(buf, &len, cap, what);
  if (ptr) {
    fio_put(buf, &len, cap, " (pointer ");
    fio_put_hex(buf, &len, (uintptr_t)ptr);
    buf[len++] = ')';
  }
  buf[len++] = '\n';
  fio_os_write(2, buf, len);
  fio_os_abort();
}

_Noreturn void fio_fatal(const char *what, const void *ptr) {
  fio_fatal_op(NULL, what, ptr);
}
