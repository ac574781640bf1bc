# smtpd/: programs of this family (see the top Makefile)
