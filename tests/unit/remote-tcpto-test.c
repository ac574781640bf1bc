/* remote-tcpto-test: send/remote-tcpto.c, tern-remote's table of hosts that timed
   out (remote-state/tcpto): counting, the 2-minute gap, the dead window,
   clearing, slot choice when full, the byte layout, and the file calls on a
   short, a full and a garbage file */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "send/remote-tcpto.h"

static void v4(char ip[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
  memset(ip, 0, 10); ip[10] = ip[11] = (char)0xff;
  ip[12] = (char)a; ip[13] = (char)b; ip[14] = (char)c; ip[15] = (char)d;
}

#define T0 1800000000ULL

static void test_count_and_window(void **st)
{
  unsigned char tab[TCPTO_SIZE] = {0};
  char ip[16];
  (void)st;
  v4(ip, 192, 0, 2, 1);
  assert_int_equal(tcpto_dead(tab, ip, T0, 0), 0);
  assert_int_equal(tcpto_update(tab, ip, 1, T0), 1);
  assert_int_equal(tcpto_dead(tab, ip, T0, 0), 0);          /* one timeout: not dead */
  assert_int_equal(tcpto_update(tab, ip, 1, T0 + 119), 0);  /* within 2 minutes: not counted */
  assert_int_equal(tab[16], 1);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 119, 0), 0);
  assert_int_equal(tcpto_update(tab, ip, 1, T0 + 120), 1);  /* counted */
  assert_int_equal(tab[16], 2);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120, 0), 1);
  /* window (60 + (pid & 31)) * 64: 3840 s for pid 0, 5824 s for pid 31 */
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120 + 3839, 0), 1);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120 + 3840, 0), 0);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120 + 5823, 31), 1);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120 + 5824, 31), 0);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 120 + 5823, 32), 0);   /* pid & 31 */
  assert_int_equal(tcpto_dead(tab, ip, T0, 0), 0);                 /* clock went back */
  /* the count stops at 10 */
  for (int i = 2; i < 20; i++) tcpto_update(tab, ip, 1, T0 + 120 * (uint64_t)i);
  assert_int_equal(tab[16], TCPTO_COUNT_MAX);
  /* success clears */
  assert_int_equal(tcpto_update(tab, ip, 0, T0 + 5000), 1);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 5000, 0), 0);
  assert_int_equal(tcpto_update(tab, ip, 0, T0 + 5000), 0);        /* nothing to clear */
  for (size_t i = 0; i < sizeof tab; i++) assert_int_equal(tab[i], 0);
}

static void test_layout(void **st)
{
  unsigned char tab[TCPTO_SIZE] = {0};
  char ip[16];
  (void)st;
  memset(ip, 0, 16); ip[0] = 0x20; ip[1] = 0x01; ip[2] = 0x0d; ip[3] = (char)0xb8; ip[15] = 5;  /* 2001:db8::5 */
  tcpto_update(tab, ip, 1, 0x0102030405060708ULL);
  assert_memory_equal(tab, ip, 16);
  assert_int_equal(tab[16], 1);
  for (int i = 17; i < 24; i++) assert_int_equal(tab[i], 0);
  assert_int_equal(tab[24], 0x08); assert_int_equal(tab[31], 0x01);   /* little-endian */
  for (int i = 32; i < TCPTO_SIZE; i++) assert_int_equal(tab[i], 0);
  /* IPv4 and its v4-mapped form are the same key; another family is not */
  {
    char a[16], b[16];
    v4(a, 10, 0, 0, 1);
    memset(b, 0, 16); b[12] = 10; b[15] = 1;    /* ::10.0.0.1 (v4-compatible): a different address */
    tcpto_update(tab, a, 1, T0); tcpto_update(tab, a, 1, T0 + 200);
    assert_int_equal(tcpto_dead(tab, a, T0 + 200, 0), 1);
    assert_int_equal(tcpto_dead(tab, b, T0 + 200, 0), 0);
  }
}

static void test_full_table(void **st)
{
  unsigned char tab[TCPTO_SIZE] = {0};
  char ip[16];
  (void)st;
  /* fill all 32 records: address i timed out at T0 + i, counts 1 */
  for (int i = 0; i < TCPTO_N; i++) { v4(ip, 10, 0, 0, (unsigned)i); tcpto_update(tab, ip, 1, T0 + (uint64_t)i); }
  /* give record 0 a second timeout: weighted later than the rest */
  v4(ip, 10, 0, 0, 0); tcpto_update(tab, ip, 1, T0 + 200);
  assert_int_equal(tab[16], 2);
  /* a new address replaces the oldest weighted one: 10.0.0.1 */
  v4(ip, 10, 0, 1, 0); tcpto_update(tab, ip, 1, T0 + 300);
  assert_memory_equal(tab + TCPTO_REC, ip, 16);
  assert_int_equal(tab[TCPTO_REC + 16], 1);
  v4(ip, 10, 0, 0, 0);
  assert_int_equal(tcpto_dead(tab, ip, T0 + 300, 0), 1);      /* untouched */
  /* a cleared record is free and taken first */
  v4(ip, 10, 0, 0, 7); tcpto_update(tab, ip, 0, T0 + 400);
  v4(ip, 10, 0, 2, 0); tcpto_update(tab, ip, 1, T0 + 500);
  assert_memory_equal(tab + 7 * TCPTO_REC, ip, 16);
}

static void test_hostile_table(void **st)
{
  unsigned char tab[TCPTO_SIZE];
  char ip[16];
  (void)st;
  /* garbage everywhere: counts above 10, times in the future, duplicates */
  for (int i = 0; i < TCPTO_SIZE; i++) tab[i] = 0xff;
  memset(ip, 0xff, 16);
  assert_int_equal(tcpto_dead(tab, ip, T0, 0), 0);            /* future time: not trusted */
  tcpto_update(tab, ip, 1, T0);                                 /* no overflow of the count */
  assert_int_equal(tab[16], 0xff);
  v4(ip, 1, 2, 3, 4);
  tcpto_update(tab, ip, 1, T0);
  assert_int_equal(tcpto_update(tab, ip, 0, T0), 1);
  /* duplicate records of one address (found by remote-tcpto-fuzz): clearing frees all */
  memset(tab, 0, sizeof tab);
  v4(ip, 10, 9, 9, 9);
  for (int k = 3; k < 6; k++) { memcpy(tab + k * TCPTO_REC, ip, 16); tab[k * TCPTO_REC + 16] = 5; }
  assert_int_equal(tcpto_dead(tab, ip, 100, 0), 1);
  assert_int_equal(tcpto_update(tab, ip, 0, 100), 1);
  assert_int_equal(tcpto_dead(tab, ip, 100, 0), 0);
  for (size_t i = 0; i < sizeof tab; i++) assert_int_equal(tab[i], 0);
}

static void test_file(void **st)
{
  char fn[] = "/tmp/tcpto-test.XXXXXX";
  int fd = mkstemp(fn);
  char ip[16];
  unsigned char buf[TCPTO_SIZE + 10];
  (void)st;
  assert_true(fd >= 0);
  unlink(fn);
  v4(ip, 127, 0, 0, 9);
  /* empty file: reads as zeros, writes the whole table */
  assert_int_equal(tcpto_file_dead(fd, ip, T0, 0), 0);
  tcpto_file_update(fd, ip, 1, T0);
  tcpto_file_update(fd, ip, 1, T0 + 120);
  assert_int_equal(tcpto_file_dead(fd, ip, T0 + 121, 0), 1);
  assert_int_equal(pread(fd, buf, sizeof buf, 0), TCPTO_SIZE);
  assert_int_equal(buf[16], 2);
  tcpto_file_update(fd, ip, 0, T0 + 122);
  assert_int_equal(tcpto_file_dead(fd, ip, T0 + 123, 0), 0);
  /* a longer file: only the first 1024 bytes are used */
  assert_int_equal(pwrite(fd, "xxxxxxxxxx", 10, TCPTO_SIZE), 10);
  tcpto_file_update(fd, ip, 1, T0);
  assert_int_equal(pread(fd, buf, sizeof buf, 0), TCPTO_SIZE + 10);
  assert_memory_equal(buf + TCPTO_SIZE, "xxxxxxxxxx", 10);
  close(fd);
  /* a bad descriptor: nothing is dead, nothing breaks */
  assert_int_equal(tcpto_file_dead(-1, ip, T0, 0), 0);
  tcpto_file_update(-1, ip, 1, T0);
  assert_int_equal(tcpto_file_dead(fd, ip, T0, 0), 0);          /* closed */
}

int main(void)
{
  const struct CMUnitTest t[] = {
    cmocka_unit_test(test_count_and_window),
    cmocka_unit_test(test_layout),
    cmocka_unit_test(test_full_table),
    cmocka_unit_test(test_hostile_table),
    cmocka_unit_test(test_file),
  };
  return cmocka_run_group_tests(t, 0, 0);
}
