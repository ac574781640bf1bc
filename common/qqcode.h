#ifndef TERN_COMMON_QQCODE_H
#define TERN_COMMON_QQCODE_H
/* tern-queue's exit codes: the qmail-queue(8) table, kept number for number
   so that qmail-queue filters can stand in front of tern-queue. 0 means the
   message is safely queued; anything else means it is not. */
#define QQ_OK 0
#define QQ_TOOLONG 11       /* permanent: address too long */
#define QQ_PERM_REFUSED 31  /* permanent: mail server permanently refuses (filters) */
#define QQ_CUSTOM 82        /* filters: text on fd 6 (not produced by tern-queue) */
#define QQ_NOMEM 51         /* temporary: out of memory */
#define QQ_TIMEOUT 52       /* temporary: timeout */
#define QQ_WRITE 53         /* temporary: write error or disk full */
#define QQ_READ 54          /* temporary: cannot read message or envelope */
#define QQ_CONFIG 55        /* temporary: cannot read configuration */
#define QQ_NETWORK 56       /* temporary: network problem */
#define QQ_HOME 61          /* temporary: cannot chdir to home */
#define QQ_QUEUEDIR 62      /* temporary: cannot chdir to queue */
#define QQ_PID 63           /* temporary: trouble in queue/pid */
#define QQ_MESS 64          /* temporary: trouble in queue/mess */
#define QQ_INTD 65          /* temporary: trouble in queue/intd */
#define QQ_TODO 66          /* temporary: trouble in queue/todo */
#define QQ_REMOTE_REFUSED 71
#define QQ_REMOTE_TIMEOUT 72
#define QQ_REMOTE_REJECTED 73
#define QQ_REMOTE_FAILED 74
#define QQ_BUG 81           /* temporary: internal bug */
#define QQ_ENVELOPE 91      /* temporary (qmail's table): envelope format error */
#define QQ_CANTRUN 120      /* the caller could not run the queue program */

/* Describe an exit status of the queue program for an SMTP reply or a log:
   returns a short text like "qq write error or disk full (#4.3.0)" and sets
   *permanent to 1 for 11..40 (a 5xx), 0 otherwise (a 4xx). Never 0. */
extern const char *qq_describe(int code, int *permanent);
#endif
