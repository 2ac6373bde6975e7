/*
 * test_workq - unit tests for src/util/workq.c on a real event loop and
 * real threads: done() on the loop in push order, batches no larger than
 * asked, and the after hook once after each batch, before the next one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "util/workq.h"

#define NITEMS 200

struct item {
    struct workq_item item;
    int               n;
};

/* What the worker and the loop saw, in order: 'R' run, 'A' after. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char   seen[2 * NITEMS + 2];
static size_t nseen, biggest, ran, done_count, wrong_arg;
static int    done_order[NITEMS];
static struct event_base *base;

static void
mark(char c)
{
    pthread_mutex_lock(&seen_lock);
    if (nseen < sizeof(seen) - 1)
        seen[nseen++] = c;
    pthread_mutex_unlock(&seen_lock);
}

static void
run(struct workq_item **items, size_t n, void *arg)
{
    (void)items;
    wrong_arg += arg != seen;       /* no cmocka assert off the main thread */
    mark('R');
    pthread_mutex_lock(&seen_lock);
    ran += n;
    if (n > biggest)
        biggest = n;
    pthread_mutex_unlock(&seen_lock);
}

static void
after(void *arg)
{
    wrong_arg += arg != seen;
    mark('A');
}

static void
done(struct workq_item *it)
{
    struct item *item = (struct item *)it;
    done_order[done_count++] = item->n;
    if (done_count == NITEMS)
        event_base_loopbreak(base);
}

static void
test_after_each_batch(void **state)
{
    static struct item items[NITEMS];

    (void)state;
    base = event_base_new();
    struct workq *q = workq_new(base, "test", 1, 8, run, seen);
    workq_set_after(q, after);
    for (int i = 0; i < NITEMS; i++) {
        items[i].item.done = done;
        items[i].n = i;
        workq_push(q, &items[i].item);
    }
    assert_int_equal(workq_busy(q), NITEMS);
    event_base_dispatch(base);
    workq_free(q);
    event_base_free(base);

    assert_int_equal(wrong_arg, 0);
    assert_int_equal(done_count, NITEMS);
    for (int i = 0; i < NITEMS; i++)
        assert_int_equal(done_order[i], i);
    assert_int_equal(ran, NITEMS);
    assert_true(biggest >= 1 && biggest <= 8);
    /* R A R A ... : every batch followed by its after, nothing else */
    assert_true(nseen >= 2 && nseen % 2 == 0);
    for (size_t i = 0; i < nseen; i++)
        assert_int_equal(seen[i], i % 2 ? 'A' : 'R');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_after_each_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
