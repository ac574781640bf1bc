/* qfile-fuzz: the readers of the queue's files on hostile bytes, as a
   damaged disk or a power cut may leave them: the message file's head
   (common/qmsg.c) and its envelope records, and tern-send's journal
   records (send/sched.c, read by tern-send and by tern-qread, which runs
   as root). Input: the file's bytes. An accepted head must describe
   offsets inside the input; an accepted journal record must format back
   to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/envelope.h"
#include "common/qmsg.h"
#include "send/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t pos = 0, vlen;
  const char *v;
  char type, *copy;
  uint64_t moff, elen;
  /* an exact-size heap copy: ASan catches any read past the end */
  copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  if (size >= QMSG_HEAD && qmsg_headparse(copy, size, &moff, &elen)) {
    if (QMSG_HEAD + elen > moff || moff > size) abort();
    while (envelope_next(copy + QMSG_HEAD, (size_t)elen, &pos, &type, &v, &vlen) == 1)
      if (v < copy + QMSG_HEAD || v + vlen >= copy + QMSG_HEAD + elen + 1) abort();
  }
  pos = 0;
  while (envelope_next(copy, size, &pos, &type, &v, &vlen) == 1) {
    const char *q;
    size_t ql;
    uint64_t val;
    if (sched_jrec_parse(type, v, vlen, &q, &ql, &val)) {
      char r[SCHED_JREC_MAX], qid[32];
      if (ql > 24) abort();
      memcpy(qid, q, ql);
      qid[ql] = 0;
      /* a canonical record formats back to itself; leading zeros are the
         one other spelling accepted */
      if (sched_jrec_fmt(r, type, qid, val) > vlen + 2) abort();
    }
  }
  free(copy);
  return 0;
}
