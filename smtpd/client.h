#ifndef TERN_SMTPD_CLIENT_H
#define TERN_SMTPD_CLIENT_H
/* client: may tern-smtpd believe what its environment says about the
   client (TCPREMOTEIP, TCPREMOTEHOST)? Only tern-listen, running as root
   and dropping to ternd, sets them for real; anybody else who runs
   tern-smtpd can set them to anything. So they count as network facts
   only when tern-smtpd runs as the ternd user, whose uid is read from
   /etc/passwd, where queue/install.sh creates it (useradd) and where
   s6-envuidgid finds it for tern-listen. libc only; the parser is pure. */
#include <stddef.h>
#include <sys/types.h>

#define CLIENT_USER "ternd"
#define CLIENT_PASSWD "/etc/passwd"

/* Is line[0..len) (one /etc/passwd line, without its LF) the entry of
   user name ("name:password:uid:...")? 1 and *uid set; 0 if it is another
   user's, or its uid field is not a decimal number below 2^32. */
extern int client_passwd_line(const char *line, size_t len, const char *name, unsigned long *uid);

/* The uid of user name in the passwd file at path: 1 and *uid set, 0 not
   there (or a line over 4096 bytes hides it), -1 the file cannot be read
   (errno). */
extern int client_passwd_uid(const char *path, const char *name, unsigned long *uid);

/* 1 if this process runs as CLIENT_USER (getuid), else 0 (also when the
   user cannot be found). */
extern int client_verified(void);
#endif
