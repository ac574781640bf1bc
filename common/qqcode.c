/* qq_describe: qmail-queue(8) exit codes in words, for SMTP replies and logs. */
#include "common/qqcode.h"

const char *qq_describe(int code, int *permanent)
{
  *permanent = (code >= 11 && code <= 40);
  switch (code) {
    case QQ_OK: return "ok";
    case QQ_TOOLONG: return "address too long (#5.1.3)";
    case QQ_PERM_REFUSED: return "mail server permanently refuses to send the message (#5.3.0)";
    case QQ_NOMEM: return "qq out of memory (#4.3.0)";
    case QQ_TIMEOUT: return "qq timeout (#4.3.0)";
    case QQ_WRITE: return "qq write error or disk full (#4.3.0)";
    case QQ_READ: return "qq read error (#4.3.0)";
    case QQ_CONFIG: return "qq unable to read configuration (#4.3.0)";
    case QQ_NETWORK: return "qq network problem (#4.3.0)";
    case QQ_HOME: return "qq trouble finding home directory (#4.3.0)";
    case QQ_QUEUEDIR: return "qq trouble in queue directory (#4.3.0)";
    case QQ_PID: return "qq trouble creating files in queue (#4.3.0)";
    case QQ_MESS: return "qq trouble creating message in queue (#4.3.0)";
    case QQ_INTD: return "qq trouble creating envelope in queue (#4.3.0)";
    case QQ_TODO: return "qq trouble linking envelope into queue (#4.3.0)";
    case QQ_REMOTE_REFUSED: return "mail server temporarily refused to send the message (#4.3.0)";
    case QQ_REMOTE_TIMEOUT: return "connection to mail server timed out (#4.4.1)";
    case QQ_REMOTE_REJECTED: return "connection to mail server rejected (#4.4.1)";
    case QQ_REMOTE_FAILED: return "communication with mail server failed (#4.4.2)";
    case QQ_BUG: return "qq internal bug (#4.3.0)";
    case QQ_ENVELOPE: return "qq envelope format error (#4.3.0)";
    case QQ_CANTRUN: return "unable to run qq (#4.3.0)";
    default:
      return *permanent ? "qq permanent problem (#5.3.0)" : "qq temporary problem (#4.3.0)";
  }
}
