/* Helpers shared by the libFuzzer harnesses (make fuzz). Each harness feeds one parser
 * hostile bytes and checks, besides what ASan and UBSan catch, what the parser promises. */
#ifndef WCMEM_TESTS_FUZZ_H
#define WCMEM_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input as a NUL-terminated string (free it); a NUL inside ends it early, as in C. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A promise the code under test broke: say which, and crash so that libFuzzer keeps the
 * input. */
#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

#endif
