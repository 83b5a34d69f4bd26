#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX_SPLITS 200000.0
#define MAX_VALUES 10000

struct ranked {
    double v;
    size_t from; /* index in the pooled array */
};

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;

    return x < y ? -1 : x > y;
}

/* Midranks of the pooled values (1-based), and the tie term sum(t^3 - t). */
static int midranks(const double *pool, size_t n, double *rank, double *ties)
{
    struct ranked *r = malloc(n * sizeof(*r));

    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = (struct ranked){pool[i], i};
    qsort(r, n, sizeof(*r), cmp_ranked);
    *ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;

        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        for (size_t k = i; k <= j; k++)
            rank[r[k].from] = (double)(i + j + 2) / 2.0;
        if (j > i) {
            double t = (double)(j - i + 1);

            *ties += t * t * t - t;
        }
        i = j + 1;
    }
    free(r);
    return 0;
}

static double choose(size_t n, size_t k)
{
    double c = 1;

    for (size_t i = 1; i <= k; i++)
        c = c * (double)(n - k + i) / (double)i;
    return c;
}

/* Every split of the n pooled ranks into nx and n - nx: the share whose
 * rank sum is at least as far from its mean as the observed one. */
static double exact_p(const double *rank, size_t n, size_t nx, double observed)
{
    double mean = (double)nx * (double)(n + 1) / 2.0, dev = fabs(observed - mean);
    uint64_t total = 0, extreme = 0;
    uint32_t mask = (1u << nx) - 1, limit = n == 32 ? 0 : (1u << n);

    /* Gosper's hack: the next mask with the same number of bits */
    while (mask < limit || (n == 32 && mask)) {
        double sum = 0;

        for (size_t i = 0; i < n; i++)
            if (mask & (1u << i))
                sum += rank[i];
        total++;
        /* a hair of slack: midranks are halves, sums compare exactly */
        if (fabs(sum - mean) >= dev - 1e-9)
            extreme++;
        {
            uint32_t c = mask & -mask, r = mask + c;

            if (r == 0)
                break;
            mask = (((r ^ mask) >> 2) / c) | r;
        }
    }
    return total ? (double)extreme / (double)total : 1.0;
}

int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct mwu *out)
{
    size_t n = nx + ny;
    double *pool, *rank, ties, rx = 0;

    if (nx == 0 || ny == 0 || n > MAX_VALUES)
        return -1;
    pool = malloc(n * sizeof(*pool));
    rank = malloc(n * sizeof(*rank));
    if (pool && rank) {
        memcpy(pool, x, nx * sizeof(*x));
        memcpy(pool + nx, y, ny * sizeof(*y));
    }
    if (!pool || !rank || midranks(pool, n, rank, &ties) < 0) {
        free(pool);
        free(rank);
        return -1;
    }
    for (size_t i = 0; i < nx; i++)
        rx += rank[i];
    out->u = rx - (double)nx * (double)(nx + 1) / 2.0;
    if (n <= 31 && choose(n, nx) <= EXACT_MAX_SPLITS) {
        out->p = exact_p(rank, n, nx, rx);
        out->exact = true;
    } else {
        double mu = (double)nx * (double)ny / 2.0;
        double var = (double)nx * (double)ny / 12.0 *
                     ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
        double d = fabs(out->u - mu) - 0.5;

        out->exact = false;
        if (var <= 0)
            out->p = 1.0; /* every value equal */
        else
            out->p = erfc((d > 0 ? d : 0) / sqrt(var) / sqrt(2.0));
    }
    if (out->p > 1.0)
        out->p = 1.0;
    free(pool);
    free(rank);
    return 0;
}

static int cmp_index_by_p(const void *a, const void *b, void *p)
{
    double x = ((const double *)p)[*(const size_t *)a], y = ((const double *)p)[*(const size_t *)b];

    return x < y ? -1 : x > y;
}

void stats_holm(const double *p, size_t m, double *adjusted)
{
    size_t *order = malloc((m ? m : 1) * sizeof(*order));
    double running = 0;

    if (!order) {
        for (size_t i = 0; i < m; i++)
            adjusted[i] = 1.0; /* no memory: claim nothing */
        return;
    }
    for (size_t i = 0; i < m; i++)
        order[i] = i;
    qsort_r(order, m, sizeof(*order), cmp_index_by_p, (void *)p);
    for (size_t k = 0; k < m; k++) {
        double a = (double)(m - k) * p[order[k]];

        if (a > running)
            running = a;
        adjusted[order[k]] = running < 1.0 ? running : 1.0;
    }
    free(order);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double stats_median(const double *v, size_t n)
{
    double *c = malloc(n * sizeof(*c)), m;

    if (!c || n == 0) {
        free(c);
        return n ? v[0] : 0;
    }
    memcpy(c, v, n * sizeof(*c));
    qsort(c, n, sizeof(*c), cmp_double);
    m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2.0;
    free(c);
    return m;
}
