#ifndef TERN_SEND_SLOG_H
#define TERN_SEND_SLOG_H
/* tern-send's log (fd 1) and its out-of-memory exit. Lines are collected
   and written once per turn of the main loop (before poll, before a fork,
   at exit): one write of at most 64 kB instead of one per line. */
#include <stddef.h>
#include <stdint.h>

#define TEXT_MAX 4000   /* bytes of a text shown in one log line */

/* write the collected lines to fd 1 */
extern void log_flush(void);
/* one line: the concatenation of v[0..n), each part NUL-terminated; the
   line is cut at 16 kB */
extern void logn(unsigned n, const char *const *v);
#define log1(a) do { const char *v_[] = { a }; logn(1, v_); } while (0)
#define log2(a, b) do { const char *v_[] = { a, b }; logn(2, v_); } while (0)
#define log3(a, b, c) do { const char *v_[] = { a, b, c }; logn(3, v_); } while (0)
#define log4(a, b, c, d) do { const char *v_[] = { a, b, c, d }; logn(4, v_); } while (0)
#define log5(a, b, c, d, e) do { const char *v_[] = { a, b, c, d, e }; logn(5, v_); } while (0)
#define log6(a, b, c, d, e, f) do { const char *v_[] = { a, b, c, d, e, f }; logn(6, v_); } while (0)

/* flush the log and _exit(code); never returns */
extern void die_exit(int code) __attribute__((noreturn));
/* "alert: out of memory; exiting", exit 111 */
extern void die_nomem(void) __attribute__((noreturn));
/* realloc(p, n), dying on failure; n == 0 allocates 1 byte */
extern void *xrealloc(void *p, size_t n);

/* u in decimal into buf (at least 21 bytes), NUL-terminated; returns buf */
extern char *fmtu(char *buf, uint64_t u);
/* s[0..len) made log-safe (sched_logsafe), cut at TEXT_MAX bytes, into
   dst (TEXT_MAX + 1 bytes), NUL-terminated; returns dst */
extern const char *safe(char *dst, const char *s, size_t len);
#endif
