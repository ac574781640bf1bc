#ifndef TERN_SMTPD_SESSION_H
#define TERN_SMTPD_SESSION_H
/* session: what tern-smtpd knows about one connection (struct session)
   and the mail transaction in it (struct tx). Shapes only; tern-smtpd.c
   runs them, phase.c says which command may run in which phase, trace.c
   writes the Received line and the log lines from them. */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/addr.h"
#include "common/qclient.h"
#include "smtpd/phase.h"
#include "smtpd/smtp.h"

#define HELO_MAX 255          /* HELO argument kept (longer is truncated) */
#define TRANSID_MAX 64        /* "TIME.PID.N" */

/* The client as the environment (tern-listen, any UCSPI-TCP server) says. */
struct client {
  const char *remoteip;       /* TCPREMOTEIP, ::ffff: dropped; "unknown" if unset */
  const char *remotehost;     /* TCPREMOTEHOST, or 0 */
  const char *localip;        /* TCPLOCALIP, ::ffff: dropped, or 0 */
  const char *relayclient;    /* RELAYCLIENT, or 0 */
  int unverified;             /* 1: not run as ternd, so remoteip and remotehost
                                 are only what whoever ran us said (client.h) */
};

/* One mail transaction: MAIL to the reply after the content, or to RSET. */
struct tx {
  struct addr from;
  struct smtp_mailparams mailp;
  int badmailfrom;            /* the sender is in control/badmailfrom */
  char *env;                  /* the envelope so far: "F" from "\0" ("T" rcpt "\0")* */
  size_t envlen, envcap;
  size_t rcptoff;             /* where the recipients start in env */
  unsigned long nrcpt;
  char firstrcpt[ADDR_MAX + 1];
  char id[TRANSID_MAX];       /* tern-smtpd's transaction id */
  struct qclient q;           /* the queue client, from DATA or the first BDAT;
                                 q.id: what the queue reported, after the end */
  struct smtp_data data;      /* the DATA/BDAT content state */
  uint64_t chunk;             /* BDAT: octets announced by the current command */
  int chunklast;              /* BDAT: the current command said LAST */
};

struct session {
  int phase;                  /* enum phase */
  int esmtp;                  /* the client said EHLO (STARTTLS and AUTH add flags here) */
  char helo[HELO_MAX + 1];
  size_t helolen;
  unsigned long badcmds;      /* replies that count towards control/maxbadcmds */
  unsigned long ntrans;       /* transactions begun (MAIL accepted) */
  struct tx tx;
};
#endif
