/* results: the results file (schema "qbench-result/1") as a file: writing
 * a document (through safefile: whole or absent), loading one back and
 * checking that it is a results document. Knows the file format only, so
 * compare, plot, expect and every reader depend on nothing of the run
 * side; report builds the documents, metric reads values out of them. */
#ifndef QB_RESULTS_H
#define QB_RESULTS_H

#include <stddef.h>

#include <jansson.h>

/* 2: greeting_timeout split into accepted_late and never_accepted where the
 * server's side is known; 1 is still read (its runs have greeting_timeout). */
#define RESULTS_SCHEMA "qbench-result/2"
#define RESULTS_SCHEMA_1 "qbench-result/1"

/* Writes doc to path through safefile: whole or not at all, replacing only
 * a regular file; missing parent directories are created. Check the path
 * with safefile_check before the run. */
int results_write(const json_t *doc, const char *path, char *err, size_t errlen);

/* results_write, and when that fails (a full or read-only disk) the
 * document is not lost: it goes to $TMPDIR (or /tmp)
 * /qbench-rescued-<pid>-<name>, else to standard output; where names the
 * place ("" when nowhere). -1 whenever path itself was not written. */
int results_write_or_rescue(const json_t *doc, const char *path, char *where, size_t wlen,
                            char *err, size_t errlen);

/* Loads and checks a results file (schema, runs[]). */
json_t *results_load(const char *path, char *err, size_t errlen);

/* The checks of results_load on a parsed document; source names it in err. */
int results_check(const json_t *doc, const char *source, char *err, size_t errlen);

/* Loads a JSON file and runs check on it (source = path); a file that is
 * missing, not JSON (named with line:column) or refused by check gives
 * NULL and err. Shared by every document loader (results, observer). */
typedef int (*results_check_fn)(const json_t *doc, const char *source, char *err, size_t errlen);
json_t *results_load_json(const char *path, results_check_fn check, char *err, size_t errlen);

/* A run's params as people read them: "server.backlog=4 client.rate=100",
 * "" without a sweep. */
void results_params_text(const json_t *params, char *buf, size_t len);

#endif
