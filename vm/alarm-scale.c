// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linked into the selftests built for a slow kernel (scripts/build.sh, when
 * a config fragment declares "# test-time-scale: N"): the kselftest
 * harness gives each case alarm(30) seconds; a debug kernel (KASAN,
 * lockdep, kmemleak) under emulation runs several times slower, so every
 * alarm the tests set is scaled by N. Linked with -Wl,--wrap=alarm.
 */
unsigned int __real_alarm(unsigned int seconds);

unsigned int __wrap_alarm(unsigned int seconds)
{
	return __real_alarm(seconds * ALARM_SCALE);
}
