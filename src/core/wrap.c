#include "wrap.h"

#include <stdbool.h>
#include <string.h>

void wrap_print(FILE *out, const char *text, size_t col, size_t indent, size_t width)
{
    bool first = true;

    for (text += strspn(text, " "); *text; text += strspn(text, " ")) {
        size_t word = strcspn(text, " ");

        if (!first && col + 1 + word > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += word;
        text += word;
        first = false;
    }
    fputc('\n', out);
}
