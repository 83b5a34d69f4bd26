/* wrap: running text broken at spaces into lines a terminal shows whole,
 * for help texts and the compare table. Pure: writes only to out. */
#ifndef QB_WRAP_H
#define QB_WRAP_H

#include <stddef.h>
#include <stdio.h>

/* text, its words joined by one space, the cursor at column col: a word
 * that would pass width starts a new line indented by indent. Ends with a
 * newline. */
void wrap_print(FILE *out, const char *text, size_t col, size_t indent, size_t width);

#endif
