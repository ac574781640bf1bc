/* libFuzzer harness for local/aliases.c: an aliases file (and an
   :include: file) of arbitrary bytes. Every reported name and value must be
   NUL-terminated at its length, inside the limits, and of a known type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "local/aliases.h"

static void on_entry(void *ctx, unsigned long line, const char *name, size_t nlen, const struct alias_value *v, size_t nv)
{
  (void)ctx; (void)line;
  if (!nlen || nlen > ALIASES_NAME_MAX || strlen(name) != nlen || strchr(name, '/')) abort();
  if (!nv || nv > ALIASES_VALUES_MAX) abort();
  for (size_t i = 0; i < nv; i++) {
    if (v[i].type < ALIAS_ADDR || v[i].type > ALIAS_INCLUDE) abort();
    if (!v[i].len || strlen(v[i].s) != v[i].len || memchr(v[i].s, '\n', v[i].len)) abort();
    if (v[i].type == ALIAS_ADDR && v[i].len > ALIASES_ADDR_MAX) abort();
    if (v[i].type != ALIAS_ADDR && v[i].len > ALIASES_VALUE_MAX) abort();
    if ((v[i].type == ALIAS_FILE || v[i].type == ALIAS_INCLUDE) && v[i].s[0] != '/') abort();
  }
}

static void on_err(void *ctx, unsigned long line, const char *why)
{
  (void)ctx; (void)line;
  if (!why || !*why) abort();
}

static void on_addr(void *ctx, unsigned long line, const char *a, size_t len)
{
  (void)ctx; (void)line;
  if (!len || len > ALIASES_ADDR_MAX || strlen(a) != len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (aliases_parse((const char *)data, size, on_entry, on_err, 0) < 0 && size <= ALIASES_FILE_MAX) abort();
  if (aliases_parse_list((const char *)data, size, on_addr, on_err, 0) < 0 && size <= ALIASES_FILE_MAX) abort();
  return 0;
}
