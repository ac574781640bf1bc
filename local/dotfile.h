#ifndef TERN_LOCAL_DOTFILE_H
#define TERN_LOCAL_DOTFILE_H
/* Pure helpers of tern-local (libc only, no I/O): the delivery-instructions
   (.tern, dot-qmail(5)) line parser and the small formats tern-local
   builds. See local/tern-local.8. */
#include <stddef.h>

#define DOTFILE_MAX 65536       /* largest instructions file read, bytes */
#define DOTFILE_LINE_MAX 4096   /* longest instruction line, bytes */
#define DOTFILE_ADDR_MAX 1000   /* longest forwarding address, bytes */

/* line types */
#define DF_SKIP 0      /* comment, or a blank line after the first */
#define DF_PROGRAM 1   /* |command: value = command */
#define DF_MAILDIR 2   /* path ending in '/' starting with '.' or '/' */
#define DF_MBOX 3      /* path starting with '.' or '/' */
#define DF_FORWARD 4   /* &address or address: value = address */
#define DF_LIST 5      /* +list: the file may only forward (qmail's x bit) */
#define DF_EBLANK -1   /* first line blank (qmail: temporary failure) */
#define DF_EADDR -2    /* bad forwarding address */
#define DF_ELONG -3    /* line longer than DOTFILE_LINE_MAX */
#define DF_ENUL -4     /* NUL byte in the line */
#define DF_EUNKNOWN -5 /* '+' other than +list */

/* Split: the next line of buf[0..len) from *pos (start with 0). Returns 1
   with the line (without LF) in *line, *llen, advancing *pos; 0 at the end.
   A last line without LF counts as a line. */
extern int dotfile_next(const char *buf, size_t len, size_t *pos, const char **line, size_t *llen);

/* Classify one line s[0..len) (without LF); first: 1 for the first line
   of the file. Trailing spaces and tabs are ignored. On DF_PROGRAM,
   DF_MAILDIR, DF_MBOX, DF_FORWARD, *v and *vlen give the value (a part of
   s). Returns a DF_ type or a DF_E error. */
extern int dotfile_line(const char *s, size_t len, int first, const char **v, size_t *vlen);

/* a short text for a DF_E error */
extern const char *dotfile_strerror(int e);

/* safeext (qmail-local): ext lowercased, '.' -> ':'. dst has len bytes. */
extern void dotfile_safeext(char *dst, const char *ext, size_t len);

/* Does the line s[0..len) need mboxrd quoting (matches ^>*From )? 1/0 */
extern int dotfile_mboxrd_quote(const char *s, size_t len);

/* Program exit code -> 0 success, 99 success-and-stop, 100 permanent,
   111 temporary (qmail-command(8)). */
extern int dotfile_progexit(int code);

/* Escape a host name for a Maildir unique name: '/' -> "\057",
   ':' -> "\072". dst == 0 only measures; returns the length. */
extern size_t dotfile_maildir_host(char *dst, const char *h, size_t len);

/* The envelope sender as qmail's From_ line wants it: empty ->
   MAILER-DAEMON, spaces, tabs and control bytes -> '-'. dst == 0
   measures; returns the length. */
extern size_t dotfile_fromsender(char *dst, const char *s, size_t len);

/* Quote an internal address (local@domain) for Return-Path: the local part
   as an RFC 5321 quoted-string when it is not a dot-string; CR/LF -> '_'.
   dst == 0 measures; returns the length (at most 2*len+2). */
extern size_t dotfile_quote(char *dst, const char *s, size_t len);
#endif
