/* SPDX-License-Identifier: MIT */
/*
 * harness.h - a minimal test runner for the native unit tests: TEST() registers a function
 * at load time, CHECK*() record a failure with file:line and let the test continue,
 * REQUIRE() stops the current test. main() (harness.c) runs every test, or those whose name
 * contains argv[1], and ends with "native: N passed, M failed".
 */
#ifndef VFMED_TEST_HARNESS_H
#define VFMED_TEST_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern jmp_buf *test_abort;

#define TEST(name)                                                                 \
	static void name(void);                                                    \
	__attribute__((constructor)) static void reg_##name(void)                  \
	{                                                                          \
		test_register(#name, name);                                        \
	}                                                                          \
	static void name(void)

#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c))                                                          \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #c);            \
	} while (0)

#define CHECK_EQ(a, b)                                                             \
	do {                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                   \
		if (a_ != b_)                                                      \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64           \
			          " != 0x%" PRIx64, #a, #b, a_, b_);               \
	} while (0)

#define REQUIRE(c)                                                                 \
	do {                                                                       \
		if (!(c)) {                                                        \
			test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #c);          \
			longjmp(*test_abort, 1);                                   \
		}                                                                  \
	} while (0)

#define REQUIRE_EQ(a, b)                                                           \
	do {                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                   \
		if (a_ != b_) {                                                    \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64           \
			          " != 0x%" PRIx64, #a, #b, a_, b_);               \
			longjmp(*test_abort, 1);                                   \
		}                                                                  \
	} while (0)

#endif
