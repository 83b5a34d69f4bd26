#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The regularized incomplete beta function I_x(a, b) by its continued
 * fraction (modified Lentz), the usual route to Student's t. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;

    d = 1.0 / (fabs(d) < tiny ? tiny : d);
    h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, num, del;

        num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = 1.0 + num / c;
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = 1.0 + num / c;
        c = fabs(c) < tiny ? tiny : c;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-14)
            break;
    }
    return h;
}

static double beta_inc(double a, double b, double x)
{
    double front;

    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double stats_t_p(double t, double df)
{
    if (!isfinite(t))
        return isnan(t) ? 1.0 : 0.0;
    return beta_inc(df / 2.0, 0.5, df / (df + t * t));
}

double stats_t_critical(double alpha, double df)
{
    double lo = 0, hi = 1;

    while (stats_t_p(hi, df) > alpha && hi < 1e12)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; i++) {
        double mid = (lo + hi) / 2;

        if (stats_t_p(mid, df) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static void finish(struct stats_test *out)
{
    out->t = out->se > 0 ? out->diff / out->se : (out->diff == 0 ? 0 : INFINITY);
    out->p = stats_t_p(out->t, out->df);
}

int stats_proportions(const double *xa, const double *na, size_t ra, const double *xb,
                      const double *nb, size_t rb, struct stats_test *out)
{
    const double *x[2] = {xa, xb}, *n[2] = {na, nb};
    size_t r[2] = {ra, rb};
    double sx[2] = {0, 0}, sn[2] = {0, 0}, p[2], chi2 = 0, pooled, nbar, phi, floor_phi;

    if (ra == 0 || rb == 0 || ra + rb < 3)
        return -1;
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < r[s]; i++) {
            if (!(n[s][i] > 0) || x[s][i] < 0 || x[s][i] > n[s][i])
                return -1;
            sx[s] += x[s][i];
            sn[s] += n[s][i];
        }
        p[s] = sx[s] / sn[s];
    }
    pooled = (sx[0] + sx[1]) / (sn[0] + sn[1]);
    if (pooled <= 0 || pooled >= 1)
        return -1;
    /* Pearson's chi-square around each side's own proportion */
    for (int s = 0; s < 2; s++) {
        if (p[s] <= 0 || p[s] >= 1)
            continue; /* every repeat the same: no spread to add */
        for (size_t i = 0; i < r[s]; i++) {
            double e = n[s][i] * p[s];

            chi2 += (x[s][i] - e) * (x[s][i] - e) / (e * (1 - p[s]));
        }
    }
    out->df = (double)(ra + rb - 2);
    phi = chi2 / out->df;
    /* A count is an integer: a repeat's spread is at least half a count, so
     * identical counts are not read as infinite precision. */
    nbar = (sn[0] + sn[1]) / (double)(ra + rb);
    floor_phi = 0.25 / (nbar * pooled * (1 - pooled));
    out->spread = phi > floor_phi ? phi : floor_phi;
    out->diff = p[1] - p[0];
    out->se = sqrt(out->spread * pooled * (1 - pooled) * (1 / sn[0] + 1 / sn[1]));
    finish(out);
    return 0;
}

int stats_log_t(const double *a, size_t na, const double *b, size_t nb, double sd_floor,
                struct stats_test *out)
{
    const double *v[2] = {a, b};
    size_t n[2] = {na, nb};
    double mean[2] = {0, 0}, ss = 0, sd;

    if (na == 0 || nb == 0 || na + nb < 3)
        return -1;
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < n[s]; i++)
            mean[s] += log(fmax(v[s][i], 1.0));
        mean[s] /= (double)n[s];
        for (size_t i = 0; i < n[s]; i++) {
            double d = log(fmax(v[s][i], 1.0)) - mean[s];

            ss += d * d;
        }
    }
    out->df = (double)(na + nb - 2);
    sd = sqrt(ss / out->df);
    out->spread = sd > sd_floor ? sd : sd_floor;
    out->diff = mean[1] - mean[0];
    out->se = out->spread * sqrt(1.0 / (double)na + 1.0 / (double)nb);
    finish(out);
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
