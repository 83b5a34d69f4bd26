/* harness: what the integration tests share. They run the real qbench
 * binary (QBENCH_BIN), each experiment in a private network namespace
 * qbench makes for itself, and read the results file it wrote. */
#ifndef QB_HARNESS_H
#define QB_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

/* Skips the test when this machine cannot make a network namespace, unless
 * QBENCH_REQUIRE_NETNS is set (CI sets it): then it fails instead. */
void harness_require_netns(void);

/* Whether a network namespace can be made here (no skip, no failure): for
 * group setups, where cmocka cannot skip. */
bool harness_have_netns(void);

/* A fresh temporary directory for this test (removed by harness_cleanup). */
const char *harness_dir(void);
void harness_cleanup(void);

/* <dir>/<name> (static buffer per call slot: copy it if you need four or
 * more at once). */
const char *harness_path(const char *name);

/* A child_setup for harness_qbench_with: the child moves into a network
 * namespace of its own with a listener on 127.0.0.1:port that it never
 * accepts from (qbench inherits it), for tests of a listener qbench did
 * not start. Set port and backlog first. */
void harness_foreign_listener(int port, int backlog);
void harness_enter_foreign_listener(void);

/* Writes text to <dir>/<name> and returns the path (static buffer per call
 * slot: copy it if you need two at once). */
const char *harness_file(const char *name, const char *text);

/* Runs qbench with args (NULL-terminated); returns its exit status. Its
 * stdout and stderr are kept and readable through harness_stderr(). */
int harness_qbench(const char *const *args);
const char *harness_stdout(void);

/* The same, with child_setup run in the child before exec (to lower a
 * limit, enter a mount namespace ...); it may fail the child with _exit. */
int harness_qbench_with(const char *const *args, void (*child_setup)(void));

/* Starts qbench in the background; harness_qbench_wait collects it. */
pid_t harness_qbench_start(const char *const *args);
int harness_qbench_wait(pid_t pid);
/* The same with child_setup run in the child first (another namespace). */
pid_t harness_qbench_start_with(const char *const *args, void (*child_setup)(void));
const char *harness_stderr(void);

/* Loads a results file or fails the test. */
json_t *harness_load(const char *path);

/* runs[i] of a document, and small accessors that fail the test when a key
 * is missing. */
const json_t *harness_run(const json_t *doc, size_t i);
long long harness_int(const json_t *obj, const char *dotted_path);
/* runs[].params[key] as an integer (keys are dotted: "server.backlog"). */
long long harness_param(const json_t *run, const char *key);
/* A kernel counter's delta in a run (0 when it did not move). */
long long harness_kernel(const json_t *run, const char *counter);

/* Fails the test when a connection was reset: none received an RST while
 * established (EstabResets) and no socket was aborted (TCPAbortOnData,
 * TCPAbortOnClose, TCPAbortOnLinger, TCPAbortOnMemory). A close with RST
 * (SO_LINGER 0) counts TCPAbortOnData, and an answer arriving at a socket
 * that closed without reading counts TCPAbortOnData where it lands and
 * EstabResets at its sender: every reset of qbench's making shows here.
 * OutRsts is not asserted: it is namespace-wide and also counts the
 * kernel's answers to stray segments matching no socket (a FIN or ACK
 * retransmitted after the port was recycled, loopback reordering), which
 * reset no connection and grow with the machine's load: 0-7 per 4,000
 * with the built-in server, up to 112 of 2,000 against nginx beside two
 * busy loops under ASan, all with every counter above at 0. */
void harness_assert_no_resets_of_qbench(const json_t *run, const char *what);

/* How many processes started by this test (its descendants, including
 * orphans of them: harness_adopt_orphans makes the test their reaper) run
 * a program of this name (comm). Processes of other users or tests on the
 * machine are never counted. */
void harness_adopt_orphans(void);
int harness_count_descendants(const char *comm);

/* Runs qbench with args like harness_qbench_with, in a private mount
 * namespace where <dir>/tiny (made here) is a fresh tmpfs of size (a mount
 * option value: "4k") mounted with flags (0, MS_RDONLY ...); TMPDIR
 * points at <dir>, so a rescued document lands where the test sees it.
 * Skips the test when the mount cannot be made, or fails it under
 * QBENCH_REQUIRE_NETNS. */
int harness_qbench_on_tiny_fs(const char *size, unsigned long flags, const char *const *args);

/* A cmocka teardown that runs harness_cleanup. */
int harness_teardown(void **state);

/* Seconds on the monotonic clock. */
double harness_now(void);

/* Asserts that attempted equals the sum of the outcome classes. */
void harness_assert_outcomes_add_up(const json_t *run);

#endif
