/* common/sanitize.c: compiled-in sanitizer defaults, linked only in a
 * SANITIZE=1 build (see common/build.mk).
 *
 * The programs run under s6 from run scripts that start with `env -`, so
 * ASAN_OPTIONS / UBSAN_OPTIONS from the caller never reach them; these
 * functions are the runtime's documented hook for defaults (an environment
 * variable, where one does arrive, still overrides them).
 *
 * - detect_leaks=0: the short-lived programs (tern-queue, tern-local, ...)
 *   leave their memory to exit; a leak report would turn each run into a
 *   failure without finding anything.
 * - log_path: every report goes to /tmp/tern-asan/{asan,ubsan}.PID rather
 *   than to a stderr that s6 may have pointed at a log or at nothing;
 *   tests/sanitize.sh creates the directory (mode 1777: the programs run
 *   under several uids) and fails unless it is empty at the end.
 * - abort_on_error=0: exit with the runtime's error code instead of a core
 *   dump; -fno-sanitize-recover=undefined makes UB fatal as well.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
  return "detect_leaks=0:abort_on_error=0:halt_on_error=1:log_path=/tmp/tern-asan/asan";
}

const char *__ubsan_default_options(void)
{
  return "print_stacktrace=1:halt_on_error=1:abort_on_error=0:log_path=/tmp/tern-asan/ubsan";
}
