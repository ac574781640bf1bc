#ifndef TERN_COMMON_CTL_INTERNAL_H
#define TERN_COMMON_CTL_INTERNAL_H
/* The in-memory halves of ctl_readline and ctl_readlist, for the unit
   tests and the fuzz harness (tests/fuzz/ctl-fuzz.c). Programs use ctl.h. */
#include <stddef.h>
#include "common/ctl.h"

/* the first line of b[0..n), as ctl_readline: 1 ok, -1 (errno EFBIG,
   EINVAL) */
extern int ctl_parse_line(const char *b, size_t n, char *buf, size_t max, size_t *len);
/* every entry of b[0..n), as ctl_readlist: 1 ok, -1 (errno EINVAL, EFBIG,
   ENOMEM; l empty) */
extern int ctl_parse_list(const char *b, size_t n, struct ctl_list *l);
#endif
