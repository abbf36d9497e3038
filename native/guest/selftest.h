/* SPDX-License-Identifier: MIT */
/*
 * selftest.h - entry points of the built-in self-tests (`vfmed-guest selftest-*`) and the
 * fake register file they trap into.
 */
#ifndef VFMED_GUEST_SELFTEST_H
#define VFMED_GUEST_SELFTEST_H

#include <stdarg.h>
#include <stdint.h>

/*
 * In-process fake device behind a trap window: a plain byte array plus an access log.
 * Volatile because the SIGSEGV handler writes it behind the compiler's back (a store
 * through a trapped pointer does not "modify" this array as far as alias analysis knows).
 */
struct st_fake {
	volatile uint8_t mem[0x4000];
	volatile unsigned calls;
	volatile uint64_t last_off;
	volatile unsigned last_size;
	volatile int last_write;
	volatile uint64_t last_val;
};

/* Records one failure (printed to stderr, first 40 only). */
void st_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `vfmed-guest selftest-decoder [--undecodable|--wild]`; returns the exit status. */
int vfmed_selftest_decoder(int argc, char **argv);

/* `vfmed-guest selftest-units`: parsers, sequence accounting, frames; returns exit status. */
int vfmed_selftest_units(void);

/* Live-migration codec, monitor requests and dirty tracking (selftest-migration.c); adds
 * to the counters of selftest-units. */
void vfmed_selftest_migration(unsigned *checks, unsigned *fails);

/* Compiler-generated volatile accesses against window 0 (bar, backed by fake);
 * returns the number of checks made, failures go through st_fail(). */
unsigned vfmed_selftest_compiled(uint8_t *bar, struct st_fake *fake);

#endif /* VFMED_GUEST_SELFTEST_H */
