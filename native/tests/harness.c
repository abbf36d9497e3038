/* SPDX-License-Identifier: MIT */
/* harness.c - runner of the native unit tests (see harness.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_TESTS 512

static struct { const char *name; test_fn fn; } tests[MAX_TESTS];
static int ntests, cur_failed;
jmp_buf *test_abort;

void test_register(const char *name, test_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cur_failed++;
}


static void run_one(test_fn fn)
{
	jmp_buf jb;

	test_abort = &jb;
	if (!setjmp(jb))
		fn();
	test_abort = NULL;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, i;

	for (i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_failed = 0;
		run_one(tests[i].fn);
		if (cur_failed) {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		} else {
			passed++;
			printf("ok   %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("native: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
