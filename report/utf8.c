#include "report/utf8.h"

size_t rep_utf8_next(const char *str, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c, min;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;  /* a continuation byte, 0xc0/0xc1 (always overlong), or past 0xf4 */
	}
	c = s[0] & (0x7f >> len);  /* the lead byte's payload bits */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;  /* includes the NUL: the sequence is cut short */
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool rep_utf8_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t rep_utf8_cut(const char *s, size_t max)
{
	size_t len = 0;

	while (s[len]) {
		uint32_t cp;
		size_t n = rep_utf8_next(s + len, &cp);

		if (n == 0)
			n = 1;
		if (len + n > max)
			break;
		len += n;
	}
	return len;
}
