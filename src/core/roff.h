/* roff: man(7) markup around plain text, for the manual page qbench
 * writes from the same tables as its --help and `help config`.
 *
 * Text is written literally: a backslash becomes \e, a '-' becomes \- (so
 * options stay searchable and copyable), and a line that would start with
 * '.' or '\'' (a request to roff) is protected with \&. Pure: writes only
 * to the FILE it is given. */
#ifndef QB_ROFF_H
#define QB_ROFF_H

#include <stdio.h>

/* .TH and the preamble: name (upper-cased), section, date, source, manual. */
void roff_header(FILE *f, const char *name, int section, const char *date, const char *source,
                 const char *manual);

/* .SH NAME */
void roff_section(FILE *f, const char *name);

/* .SS name */
void roff_subsection(FILE *f, const char *name);

/* A paragraph (.PP) of running text; line breaks in text are spaces. */
void roff_para(FILE *f, const char *text);

/* A tagged paragraph (.TP): term in bold, then its description. */
void roff_item(FILE *f, const char *term, const char *text);

/* A block shown as is (.nf/.fi, indented): examples, tables of values. */
void roff_verbatim(FILE *f, const char *text);

/* text, escaped, with no markup around it (lines joined with spaces
 * unless keep_lines). */
void roff_text(FILE *f, const char *text, int keep_lines);

#endif
