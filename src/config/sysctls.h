/* sysctls: the sysctls qbench may set inside a run point's private
 * namespace, with the documented form and range of each value
 * (Documentation/networking/ip-sysctl.rst). Every one of them lives in
 * each network namespace, so writing it there leaves the host alone;
 * anything else (vm.*, kernel.*, global ones such as tcp_mem) would change
 * the whole machine and is refused. Pure: a table and its checks. */
#ifndef QB_SYSCTLS_H
#define QB_SYSCTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* True if name may be written inside a private network namespace. */
bool sysctls_is_per_netns(const char *name);

/* 0 if name is one qbench may set; else -1 and why ("not a
 * per-network-namespace sysctl ... (did you mean ...)"). */
int sysctls_check_name(const char *name, char *why, size_t whylen);

/* Checks val (a JSON integer or string) against name's form and range and
 * stores its text as written to /proc/sys in out; -1 and why if not. */
int sysctls_check_value(const char *name, const json_t *val, char *out, size_t len, char *why,
                        size_t whylen);

/* Every sysctl with its range, one an indented line, for help. */
void sysctls_print_reference(FILE *out);

#endif
