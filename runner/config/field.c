#include "runner/config/field.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cfg_field_decode(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;  /* a bad escape, or a NUL that would cut the field */
		*out++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*out = '\0';
	return 0;
}

size_t cfg_field_encode(const char *src, char *dst, size_t size)
{
	static const char plain[] = "-_.:/[]=,()@+";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr(plain, *p);

		if (keep) {
			if (n + 1 < size)
				dst[n] = (char)*p;
			n++;
		} else {
			if (n + 3 < size)
				snprintf(dst + n, 4, "%%%02X", *p);
			n += 3;
		}
	}
	if (size)
		dst[n < size ? n : size - 1] = '\0';
	return n;
}
