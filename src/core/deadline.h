/* deadline: timeouts that all have the same length, kept in arrival order.
 * Pure: the caller passes the time.
 *
 * A connection waits in one phase at a time (connecting, greeting, drain,
 * late watch), and every wait in a phase is equally long. Entered in time
 * order, the waits of a phase are then also sorted by deadline: a FIFO list
 * is a priority queue. Entering, leaving and expiring are O(1), and the
 * phase needs one event-loop timer for its head, not one heap operation per
 * connection and state change (libev's manual, "Be smart about timeouts",
 * method 4: a list of watchers with the same timeout).
 *
 * Nodes are embedded in the caller's structures (no allocation); a node is
 * in at most one list and knows which; deadline_leave on a node in no list
 * does nothing. */
#ifndef QB_DEADLINE_H
#define QB_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

struct deadline_list;

struct deadline_node {
    struct deadline_node *prev, *next;
    struct deadline_list *list; /* NULL: waiting in no list */
    uint64_t at_ns;
};

struct deadline_list {
    struct deadline_node *head, *tail;
    uint64_t timeout_ns;
    uint64_t last_ns; /* the latest entry time, to keep the list sorted */
};

void deadline_list_init(struct deadline_list *l, uint64_t timeout_ns);

/* n waits from now for the list's timeout (leaving any list it was in).
 * An entry earlier than the list's latest is entered at the latest, so the
 * list stays sorted whatever clock the caller reads. Returns true when n
 * became the head: the caller's timer must be armed. */
bool deadline_enter(struct deadline_list *l, struct deadline_node *n, uint64_t now_ns);

/* n stops waiting, in whichever list it was. */
void deadline_leave(struct deadline_node *n);

/* If the head's deadline is at or before now, removes it and returns it. */
struct deadline_node *deadline_expired(struct deadline_list *l, uint64_t now_ns);

/* The head's deadline, when there is a head. */
bool deadline_next(const struct deadline_list *l, uint64_t *at_ns);

bool deadline_waiting(const struct deadline_node *n);

#endif
