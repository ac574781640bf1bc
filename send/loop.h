#ifndef TERN_SEND_LOOP_H
#define TERN_SEND_LOOP_H
/* One turn of tern-send's main loop (qmail-send's prepare/run seam): each
   part adds its descriptors and its next wake-up time in its prepare step,
   main polls once, and each part's run step looks at what woke it. */
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

#define LOOP_FDS 16   /* self-pipe, trigger, 4 spawner fds, command socket and its clients (ctl.h) */
#define LOOP_NEVER ((time_t)INT64_MAX)   /* no wake-up time (time_t is 64-bit here) */

struct loop {
  struct pollfd p[LOOP_FDS];
  unsigned n;
  time_t now;         /* wall clock when the turn began */
  time_t wake;        /* wall clock, seconds: wake up then at the latest */
  int64_t wake_ms;    /* CLOCK_MONOTONIC milliseconds, INT64_MAX for none */
};

/* milliseconds on CLOCK_MONOTONIC */
static inline int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll fd for events; returns its index in l->p (for loop_ready) */
static inline int loop_add(struct loop *l, int fd, short events)
{
  l->p[l->n].fd = fd;
  l->p[l->n].events = events;
  l->p[l->n].revents = 0;
  return (int)l->n++;
}

/* wake up at wall-clock time t at the latest */
static inline void loop_wake(struct loop *l, time_t t)
{
  if (t < l->wake) l->wake = t;
}

/* did the descriptor at index k (from loop_add; -1 for none) wake us */
static inline int loop_ready(const struct loop *l, int k)
{
  return k >= 0 && l->p[k].revents;
}
#endif
