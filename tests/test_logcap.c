/* logcap: a server's log never passes its cap and keeps the tail. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "logcap.h"

static char *contents(int fd, size_t *len)
{
    struct stat st;
    char *buf;

    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    buf[st.st_size] = '\0';
    *len = (size_t)st.st_size;
    return buf;
}

/* Byte i of the stream is 'a' + i % 26: any window says where it came from. */
static void test_the_tail_is_kept_within_the_cap(void **state)
{
    char path[] = "/tmp/qbench-logcap-XXXXXX", chunk[700];
    int fd = mkstemp(path);
    uint64_t size = 0, dropped = 0, total = 0;
    size_t len;
    char *got;

    (void)state;
    unlink(path);
    for (int round = 0; round < 100; round++) {
        size_t n = (size_t)(round * 37 % 700) + 1;

        for (size_t i = 0; i < n; i++)
            chunk[i] = (char)('a' + (total + i) % 26);
        assert_int_equal(logcap_append(fd, 4096, &size, &dropped, chunk, n), 0);
        total += n;
        assert_true(size <= 4096);
        assert_int_equal(size + dropped, total);
    }
    got = contents(fd, &len);
    assert_int_equal(len, size);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(got[i], 'a' + (dropped + i) % 26);
    free(got);
    /* one write larger than the cap: its own end is kept */
    {
        char *big = malloc(10000);

        for (size_t i = 0; i < 10000; i++)
            big[i] = (char)('a' + (total + i) % 26);
        assert_int_equal(logcap_append(fd, 4096, &size, &dropped, big, 10000), 0);
        total += 10000;
        free(big);
    }
    assert_int_equal(size, 2048);
    assert_int_equal(size + dropped, total);
    got = contents(fd, &len);
    assert_int_equal(got[len - 1], 'a' + (total - 1) % 26);
    free(got);
    close(fd);
}

/* Through the pipe and the thread, as a server's stderr would be. */
static void test_a_chatty_writer_is_capped(void **state)
{
    char dir[] = "/tmp/qbench-logcap-XXXXXX", path[300], err[ERRBUF_LEN], line[100];
    struct logcap c;
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/server.log", dir);
    assert_int_equal(logcap_open(&c, path, 8192, err, sizeof(err)), 0);
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(line, sizeof(line), "line %d of a server that never stops talking\n", i);

        assert_int_equal(write(c.write_fd, line, (size_t)n), n);
    }
    logcap_close(&c);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= 8192);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(logcap_dropped(&c) > 0);
    {
        char buf[8193];
        int fd = open(path, O_RDONLY);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);

        close(fd);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "line 1999 of a server"));
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_tail_is_kept_within_the_cap),
        cmocka_unit_test(test_a_chatty_writer_is_capped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
