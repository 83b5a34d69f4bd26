/* hint: what an error message adds so a person can fix the input at once:
 * the closest known name to a misspelt one ("did you mean"), and the JSON
 * type of a value of the wrong type. Pure. */
#ifndef QB_HINT_H
#define QB_HINT_H

#include <stddef.h>

#include <jansson.h>

/* " (did you mean 'x'?)" for the closest of n names within two edits (a
 * third of a longer word), or "". */
void hint_closest(const char *got, const char *const *names, size_t n, char *out, size_t len);

/* "an object", "a string", "an integer" ... for "got %s". */
const char *hint_json_type(const json_t *j);

#endif
