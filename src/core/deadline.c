#include "deadline.h"

#include <stddef.h>

void deadline_list_init(struct deadline_list *l, uint64_t timeout_ns)
{
    l->head = l->tail = NULL;
    l->timeout_ns = timeout_ns;
    l->last_ns = 0;
}

void deadline_leave(struct deadline_node *n)
{
    struct deadline_list *l = n->list;

    if (!l)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    n->list = NULL;
}

bool deadline_enter(struct deadline_list *l, struct deadline_node *n, uint64_t now_ns)
{
    deadline_leave(n);
    if (now_ns < l->last_ns)
        now_ns = l->last_ns;
    l->last_ns = now_ns;
    n->at_ns = now_ns + l->timeout_ns;
    n->list = l;
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    return l->head == n;
}

struct deadline_node *deadline_expired(struct deadline_list *l, uint64_t now_ns)
{
    struct deadline_node *n = l->head;

    if (!n || n->at_ns > now_ns)
        return NULL;
    deadline_leave(n);
    return n;
}

bool deadline_next(const struct deadline_list *l, uint64_t *at_ns)
{
    if (!l->head)
        return false;
    *at_ns = l->head->at_ns;
    return true;
}

bool deadline_waiting(const struct deadline_node *n)
{
    return n->list != NULL;
}
