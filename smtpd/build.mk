# smtpd/: the SMTP front door (edge programs: libowfat only, never skalibs)
EDGE += smtpd/tern-smtpd
smtpd/tern-smtpd: smtpd/smtp.o
EDGE += smtpd/tern-listen smtpd/tern-rules


