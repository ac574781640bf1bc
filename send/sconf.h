#ifndef TERN_SEND_SCONF_H
#define TERN_SEND_SCONF_H
/* tern-send's configuration: every control file it reads, in one struct,
   loaded and validated whole. At start-up a failure stops tern-send (exit
   111); on SIGHUP a new struct replaces the old one only when the whole of
   it loaded, else the old one stays and the reason is logged. */
#include "common/ctl.h"
#include "send/sched.h"

struct sconf {
  char me[CTL_LINE_MAX];               /* control/me, "" if missing or empty */
  char envnoathost[CTL_LINE_MAX];      /* default me, else "envnoathost" */
  char bouncefrom[CTL_LINE_MAX];       /* default MAILER-DAEMON */
  char bouncehost[CTL_LINE_MAX];       /* default me, else "bouncehost" */
  char doublebounceto[CTL_LINE_MAX];   /* default postmaster */
  char doublebouncehost[CTL_LINE_MAX]; /* default me, else "doublebouncehost" */
  int dbto_empty;                      /* doublebounceto's first line is empty: discard double bounces */
  struct ctl_list locals;              /* default: me */
  struct ctl_list vdoms;               /* control/virtualdomains */
  struct ctl_list phack;               /* control/percenthack */
  struct sched_ctl sctl;               /* points into this struct */
  unsigned conc[2];                    /* concurrencylocal (10), concurrencyremote (20), at most 255 */
  unsigned long lifetime;              /* queuelifetime, seconds (604800) */
  unsigned long bouncemax;             /* bouncemaxbytes (102400), at most 16 MiB */
  unsigned long delaywarn;             /* delaywarning in seconds, 0 = off */
  unsigned char bodymode[SCHED_ORIGINS]; /* control/bouncebody: SCHED_BODY_* per SCHED_ORIGIN_* */
  uint64_t smtpuid;                    /* uid of ternd (tern-smtpd), SCHED_UID_UNKNOWN if no such user */
};

/* the configuration in force (0 before sconf_start) */
extern const struct sconf *conf;

/* load HOME/control/ into conf. 1 ok; 0 (logged "alert: cannot start: ...")
   when a file cannot be read or is malformed */
extern int sconf_start(void);

/* SIGHUP: load again; on success the new struct replaces conf ("status:
   reread ..."), else conf stays and the reason is logged ("warning:
   keeping the old ..."). 1 replaced, 0 kept. */
extern int sconf_reload(void);
#endif
