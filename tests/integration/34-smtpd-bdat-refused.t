#!/bin/sh
# 34-smtpd-bdat-refused.t: a BDAT command tern-smtpd refuses still has its
# chunk behind it, and those octets are never commands (RFC 3030 3, 4.1).
# From a client that may not relay, each malformed form is followed by 40
# octets that spell RCPT/DATA/body commands: the chunk is swallowed when its
# size can be read (501, then the session goes on), the connection closed
# when it cannot (421); no smuggled recipient ever gets a message, and a
# proper BDAT in the same session is still delivered.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
tern_start || exit 1
python3 "$SRC/tests/integration/bdat_refused.py" "$TERN_PORT" "$ROOT"
