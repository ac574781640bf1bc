#ifndef TERN_SMTPD_SMTP_H
#define TERN_SMTPD_SMTP_H
/* The pure part of tern-smtpd: the SMTP command parser and the DATA/BDAT
   content state machine (RFC 5321, RFC 3030). libc and common/ only, no I/O,
   so it can be unit-tested and fuzzed. See smtpd/tern-smtpd.8. */
#include <stddef.h>
#include <stdint.h>
#include "common/addr.h"

#define SMTP_CMD_MAX 1000     /* longest command line, octets including CRLF */
#define SMTP_TEXT_MAX 1000    /* longest DATA/BDAT line, octets including CRLF */
#define SMTP_HOPS_MAX 100     /* Received:/Delivered-To: lines that mean a loop */
#define SMTP_BDAT_MAX ((uint64_t)1 << 50) /* largest chunk size we parse */

enum smtp_verb {
  SMTP_V_UNKNOWN = 0, SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_MAIL, SMTP_V_RCPT,
  SMTP_V_DATA, SMTP_V_BDAT, SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_QUIT,
  SMTP_V_VRFY, SMTP_V_EXPN, SMTP_V_HELP, SMTP_V_STARTTLS, SMTP_V_AUTH,
  SMTP_V_ETRN, SMTP_V_TURN
};

struct smtp_cmd {
  int verb;            /* enum smtp_verb */
  const char *arg;     /* points into the line; spaces around it removed */
  size_t arglen;
};

/* Split a command line (without its CRLF) into verb and argument. The verb
   is everything up to the first SP, compared case-insensitively. Returns 1
   if the line is usable, 0 if it holds a NUL or CR (c->verb is then
   SMTP_V_UNKNOWN). */
extern int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c);

/* results of smtp_parse_mail / smtp_parse_rcpt */
#define SMTP_OK 0
#define SMTP_E_SYNTAX 1      /* no FROM:/TO:, garbage: 501 5.5.4 */
#define SMTP_E_ADDR 2        /* address error; *aerr holds the ADDR_E_* code */
#define SMTP_E_PARAM 3       /* unknown or unadvertised parameter: 555 5.5.4 */
#define SMTP_E_PARAMVAL 4    /* bad parameter value or repeated parameter: 501 5.5.4 */
#define SMTP_E_UTF8 5        /* UTF-8 address without SMTPUTF8: 553 5.6.7 */

#define SMTP_BODY_NONE 0
#define SMTP_BODY_7BIT 1
#define SMTP_BODY_8BITMIME 2

struct smtp_mailparams {
  uint64_t size;       /* SIZE=, if has_size */
  int has_size;
  int body;            /* SMTP_BODY_* */
  int smtputf8;        /* SMTPUTF8 given */
};

/* MAIL argument: "FROM:" [SP] reverse-path *(SP param). Parameters
   understood: SIZE=n, BODY=7BIT|8BITMIME, SMTPUTF8. A UTF-8 address is
   accepted only together with SMTPUTF8. */
extern int smtp_parse_mail(const char *arg, size_t len, struct addr *a, struct smtp_mailparams *p, int *aerr);

/* RCPT argument: "TO:" [SP] forward-path. <postmaster> without a domain is
   accepted (ADDR_F_NODOMAIN). utf8: the transaction declared SMTPUTF8. No
   RCPT parameters are supported (we advertise no DSN). */
extern int smtp_parse_rcpt(const char *arg, size_t len, int utf8, struct addr *a, int *aerr);

/* BDAT argument: chunk-size [SP "LAST"]. 1 ok, 0 syntax error. */
extern int smtp_parse_bdat(const char *arg, size_t len, uint64_t *n, int *last);

/* For a BDAT argument smtp_parse_bdat refused: can the chunk size the
   client meant still be read? 1 if the argument starts with 1 to 20
   digits (at most SMTP_BDAT_MAX) that end it or are followed by SP or
   HTAB: *n is that size, and those octets follow the command whatever
   the reply (RFC 3030 3). 0 otherwise: where the chunk ends cannot be
   known, so the connection must be closed (RFC 3030 4.1). */
extern int smtp_bdat_count(const char *arg, size_t len, uint64_t *n);

/* The content state machine. In DATA mode it undoes dot-stuffing and ends
   only at CRLF "." CRLF; in BDAT mode there is no terminator and no dot
   rule. Both turn CRLF into LF, and flag (never end on, never pass as a
   line end) a bare CR, a bare LF and a NUL: a message with any flag is
   refused at its end and never queued (the "SMTP smuggling" class). */
#define SMTP_D_BARELF 0x01
#define SMTP_D_BARECR 0x02
#define SMTP_D_NUL 0x04
#define SMTP_D_LONGLINE 0x08   /* a line over SMTP_TEXT_MAX octets with CRLF */
#define SMTP_D_TOOBIG 0x10     /* more than maxbytes octets (counted with CRLF) */
#define SMTP_D_HOPS 0x20       /* SMTP_HOPS_MAX or more Received:/Delivered-To: header lines */

#define SMTP_MODE_DATA 0
#define SMTP_MODE_BDAT 1

struct smtp_data {
  int mode;
  unsigned state;      /* internal */
  unsigned flags;      /* SMTP_D_* seen so far */
  int done;            /* DATA: CRLF.CRLF consumed */
  uint64_t size;       /* octets of content counted with CRLF line ends (RFC 1870) */
  uint64_t maxbytes;   /* 0: no limit */
  size_t linelen;      /* wire octets in the current line */
  unsigned hops;
  int inheader;        /* still in the header section */
  size_t hlen;         /* bytes of the current header line kept in hbuf */
  char hbuf[14];       /* first bytes of the current header line, lower case */
};

extern void smtp_data_init(struct smtp_data *d, int mode, uint64_t maxbytes);

/* Consume in[0..len); write the content to store into out (which must have
   room for len + 1 bytes) and its length into *outlen. Returns the number
   of input bytes consumed: all of them, unless DATA mode reached the end
   (d->done), in which case the rest belongs to the next command. Once
   SMTP_D_TOOBIG is set nothing more is written to out. */
extern size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t len, char *out, size_t *outlen);

/* BDAT LAST: the content ends here (a CR left pending is a bare CR). */
extern void smtp_data_finish(struct smtp_data *d);
#endif
