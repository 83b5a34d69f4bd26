/* safefile: outputs that are whole or absent, and never replace anything
 * but a regular file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "safefile.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/qbench-safefile-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *name)
{
    static char paths[4][256];
    static int slot;
    char *p = paths[slot++ % 4];

    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_text(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f) ? buf : (strlen(text) ? NULL : buf));
    fclose(f);
    assert_string_equal(buf, text);
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n - 2;
}

static void expect_refused(const char *path, int want_env, const char *must_say)
{
    char err[ERRBUF_LEN];
    int env = -1;

    if (safefile_check(path, NULL, 0, &env, err, sizeof(err)) != -1)
        fail_msg("%s: accepted", path);
    if (!strstr(err, must_say))
        fail_msg("%s: said '%s', expected '%s'", path, err, must_say);
    assert_int_equal(env, want_env);
}

static void test_directories_are_refused(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at("d"), 0755), 0);
    expect_refused(at("d"), 0, "is a directory");
    expect_refused(at("d/"), 0, "names a directory");
    expect_refused(at("d/."), 0, "names a directory");
    expect_refused(at("d/.."), 0, "names a directory");
    assert_int_equal(rmdir(at("d")), 0);
}

static void test_special_files_are_refused(void **state)
{
    struct stat st;

    (void)state;
    assert_int_equal(mkfifo(at("fifo"), 0644), 0);
    expect_refused(at("fifo"), 0, "is a FIFO");
    expect_refused("/dev/null", 0, "is a character device");
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    unlink(at("fifo"));
}

static void test_symlinks_are_refused_and_their_target_kept(void **state)
{
    char err[ERRBUF_LEN];
    struct safefile sf;

    (void)state;
    write_text(at("victim"), "secret\n");
    assert_int_equal(symlink(at("victim"), at("link.json")), 0);
    expect_refused(at("link.json"), 0, "is a symbolic link");
    assert_int_equal(safefile_open(&sf, at("link.json"), err, sizeof(err)), -1);
    assert_text(at("victim"), "secret\n");
    unlink(at("link.json"));
    unlink(at("victim"));
}

static void test_an_input_is_never_the_output(void **state)
{
    const char *inputs[2];
    char err[ERRBUF_LEN];
    int env;

    (void)state;
    write_text(at("config.json"), "{}\n");
    assert_int_equal(link(at("config.json"), at("hardlink.json")), 0);
    inputs[0] = "/nonexistent";
    inputs[1] = at("config.json");
    assert_int_equal(safefile_check(at("config.json"), inputs, 2, &env, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is the input"));
    assert_int_equal(env, 0);
    /* the same file under another name */
    assert_int_equal(safefile_check(at("hardlink.json"), inputs, 2, &env, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is the input"));
    assert_text(at("config.json"), "{}\n");
    unlink(at("hardlink.json"));
    unlink(at("config.json"));
}

static void test_write_commit_and_abort(void **state)
{
    char err[ERRBUF_LEN], first[PATH_MAX];
    struct safefile sf, other;
    struct stat st;

    (void)state;
    write_text(at("out.json"), "old\n");
    assert_int_equal(safefile_open(&sf, at("out.json"), err, sizeof(err)), 0);
    assert_int_equal(safefile_open(&other, at("out.json"), err, sizeof(err)), 0);
    /* unpredictable names, created exclusively, never following a link */
    assert_string_not_equal(sf.tmp, other.tmp);
    assert_non_null(strstr(sf.tmp, "/.out.json."));
    assert_non_null(strstr(sf.tmp, ".qbtmp."));
    assert_int_equal(lstat(sf.tmp, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    strcpy(first, sf.tmp);
    safefile_abort(&other);
    assert_int_equal(safefile_write(&sf, "new\n", 4, err, sizeof(err)), 0);
    assert_text(at("out.json"), "old\n"); /* nothing visible before the commit */
    assert_int_equal(safefile_commit(&sf, err, sizeof(err)), 0);
    assert_text(at("out.json"), "new\n");
    assert_int_equal(access(first, F_OK), -1);
    assert_int_equal(entries(), 1);

    assert_int_equal(safefile_open(&sf, at("out.json"), err, sizeof(err)), 0);
    assert_int_equal(safefile_write(&sf, "half", 4, err, sizeof(err)), 0);
    safefile_abort(&sf);
    assert_text(at("out.json"), "new\n");
    assert_int_equal(entries(), 1);
    unlink(at("out.json"));
}

/* A target replaced by a link during a long run is still refused. */
static void test_target_checked_again_at_commit(void **state)
{
    char err[ERRBUF_LEN];
    struct safefile sf;

    (void)state;
    write_text(at("victim"), "secret\n");
    assert_int_equal(safefile_open(&sf, at("late.json"), err, sizeof(err)), 0);
    assert_int_equal(symlink(at("victim"), at("late.json")), 0);
    assert_int_equal(safefile_commit(&sf, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "symbolic link"));
    assert_text(at("victim"), "secret\n");
    assert_int_equal(entries(), 2); /* victim and the link: no temporary file */
    unlink(at("late.json"));
    unlink(at("victim"));
}

static pid_t dead_pid(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

/* What a qbench killed during its write left behind is removed on the next
 * check of the same output, and nothing else is. */
static void test_stale_temporary_files_are_removed_safely(void **state)
{
    char stale[128], live[128], linked[128], other[128], err[ERRBUF_LEN];
    int env;

    (void)state;
    snprintf(stale, sizeof(stale), ".r.json.%d.qbtmp.0123456789abcdef", (int)dead_pid());
    snprintf(live, sizeof(live), ".r.json.1.qbtmp.0123456789abcdef"); /* pid 1 lives */
    snprintf(linked, sizeof(linked), ".r.json.%d.qbtmp.fedcba9876543210", (int)dead_pid());
    snprintf(other, sizeof(other), ".r.json.%d.qbtmp.short", (int)dead_pid());
    write_text(at(stale), "partial");
    write_text(at(live), "partial");
    write_text(at(other), "partial");
    write_text(at("victim"), "secret\n");
    assert_int_equal(symlink(at("victim"), at(linked)), 0);
    assert_int_equal(safefile_check(at("r.json"), NULL, 0, &env, err, sizeof(err)), 0);
    assert_int_equal(access(at(stale), F_OK), -1);
    assert_int_equal(access(at(live), F_OK), 0);
    assert_int_equal(access(at(other), F_OK), 0);
    assert_int_equal(access(at(linked), F_OK), 0);
    assert_text(at("victim"), "secret\n");
    unlink(at(live));
    unlink(at(other));
    unlink(at(linked));
    unlink(at("victim"));
}

/* In a sticky directory (/tmp) a user cannot replace another user's file:
 * that is found before the run, not by the final rename. */
static void test_sticky_directory_of_another_owner_is_refused(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(chmod(dir, 0755), 0); /* let uid 65534 in */
    assert_int_equal(mkdir(at("sticky"), 01777), 0);
    assert_int_equal(chmod(at("sticky"), 01777), 0);
    write_text(at("sticky/r.json"), "root's\n");
    assert_int_equal(chmod(at("sticky/r.json"), 0666), 0);
    pid = fork();
    if (pid == 0) {
        char err[ERRBUF_LEN];
        int env = 0;

        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(10);
        if (safefile_check(at("sticky/r.json"), NULL, 0, &env, err, sizeof(err)) != -1)
            _exit(11);
        if (!strstr(err, "sticky directory") || env != 1)
            _exit(12);
        /* a new name there is fine */
        if (safefile_check(at("sticky/mine.json"), NULL, 0, &env, err, sizeof(err)) != 0)
            _exit(13);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_text(at("sticky/r.json"), "root's\n");
    unlink(at("sticky/r.json"));
    rmdir(at("sticky"));
}

static void test_missing_parents_are_created(void **state)
{
    char err[ERRBUF_LEN];
    int env;

    (void)state;
    assert_int_equal(safefile_check(at("a/b/c.json"), NULL, 0, &env, err, sizeof(err)), 0);
    assert_int_equal(access(at("a/b"), F_OK), 0);
    assert_int_equal(access(at("a/b/c.json"), F_OK), -1);
    assert_int_equal(safefile_check("/proc/qbench/r.json", NULL, 0, &env, err, sizeof(err)), -1);
    assert_int_equal(env, 1);
    assert_non_null(strstr(err, "/proc/qbench"));
    rmdir(at("a/b"));
    rmdir(at("a"));
}

/* Two outputs are one file whatever the spelling: "./x", a symbolic link
 * among the parents, a hard link; a file not yet there by its directory
 * and name. */
static void test_the_same_file_under_another_spelling(void **state)
{
    char a[300], b[300], lnk[300], sub[300];
    const char *outs[2], *what[] = {"output", "connections_file"};
    char err[ERRBUF_LEN];

    (void)state;
    snprintf(sub, sizeof(sub), "%s/same-sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(lnk, sizeof(lnk), "%s/same-link", dir);
    assert_int_equal(symlink("same-sub", lnk), 0);
    /* not there yet: by directory and name */
    snprintf(a, sizeof(a), "%s/same-sub/x.csv", dir);
    snprintf(b, sizeof(b), "%s/same-link/./x.csv", dir);
    assert_true(safefile_same(a, b));
    snprintf(b, sizeof(b), "%s/same-link/../same-sub/x.csv", dir);
    assert_true(safefile_same(a, b));
    snprintf(b, sizeof(b), "%s/same-link/y.csv", dir);
    assert_false(safefile_same(a, b));
    /* there: by inode, hard links included */
    write_text(a, "x");
    snprintf(b, sizeof(b), "%s/same-hard.csv", dir);
    assert_int_equal(link(a, b), 0);
    assert_true(safefile_same(a, b));
    outs[0] = a;
    outs[1] = b;
    assert_int_equal(safefile_distinct(outs, what, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "same file"));
    snprintf(b, sizeof(b), "%s/same-other.csv", dir);
    assert_int_equal(safefile_distinct(outs, what, 2, err, sizeof(err)), 0);
    /* an input under another spelling is still the input */
    {
        const char *inputs[] = {a};
        int env;

        snprintf(b, sizeof(b), "%s/same-link/x.csv", dir);
        assert_int_equal(safefile_check(b, inputs, 1, &env, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "input"));
    }
    unlink(a);
    snprintf(b, sizeof(b), "%s/same-hard.csv", dir);
    unlink(b);
    unlink(lnk);
    rmdir(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directories_are_refused),
        cmocka_unit_test(test_special_files_are_refused),
        cmocka_unit_test(test_symlinks_are_refused_and_their_target_kept),
        cmocka_unit_test(test_an_input_is_never_the_output),
        cmocka_unit_test(test_the_same_file_under_another_spelling),
        cmocka_unit_test(test_write_commit_and_abort),
        cmocka_unit_test(test_target_checked_again_at_commit),
        cmocka_unit_test(test_stale_temporary_files_are_removed_safely),
        cmocka_unit_test(test_sticky_directory_of_another_owner_is_refused),
        cmocka_unit_test(test_missing_parents_are_created),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
