#ifndef TERN_SMTPD_CONFIG_H
#define TERN_SMTPD_CONFIG_H
/* config: what tern-smtpd reads once per connection before the greeting:
   HOME/control (tern-smtpd.8 CONTROL FILES), users/recipients.cdb, and the
   environment (TCPREMOTEIP and friends, DATABYTES, the UCSPI-TLS
   descriptors, TERN_LISTENER). A control file that cannot be read ends
   the session with 421 (ctlfail). libowfat (cdb) + libc + common/. */
#include "cdb.h"
#include "common/ctl.h"
#include "smtpd/authrun.h"
#include "smtpd/rcpt.h"
#include "smtpd/session.h"

struct config {
  char me[CTL_LINE_MAX];
  char greeting[CTL_LINE_MAX];
  char localiphost[CTL_LINE_MAX];
  struct ctl_list rcpthosts, badmailfrom, badrcptto, locals, vdoms;
  struct cdb mrh, rcpts;              /* mapped once per connection */
  unsigned long databytes, maxrcpt, timeoutsmtpd, timeoutsession, maxbadcmds, greetdelay;
  struct rcpt_policy policy;
  /* TLS (UCSPI-TLS descriptors, -1: none) and the listener */
  int sslctl, sslread, sslwrite;
  enum { L_MX, L_SUBMISSION, L_SMTPS } listener;
  /* AUTH: the checker's command line (authargv[0] 0: no AUTH) */
  char authline[CTL_LINE_MAX];
  char *authargv[AUTHRUN_ARGS + 1];
  struct ctl_list authplain, authsenders;
  unsigned long timeoutauth, authfailmax, authfaildelay, authfailwindow;
  char faildir[4200];
};
extern struct config cfg;
extern struct client client;   /* as the environment says (client.h) */

/* read everything above into cfg and client; on trouble 421 and exit */
extern void config_setup(void);

/* control/name cannot be used: log, 421, exit 100 (why: a permanent
   reason) or 111 (why 0: errno says it) */
extern void ctlfail(const char *name, const char *why);
#endif
