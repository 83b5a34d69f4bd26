#include "histjson.h"

json_t *histogram_to_json(const struct histogram *h)
{
    json_t *buckets = json_array();

    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        if (h->buckets[i])
            json_array_append_new(buckets,
                                  json_pack("[I, I]", (json_int_t)i, (json_int_t)h->buckets[i]));
    return json_pack(
        "{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "count", (json_int_t)h->count,
        "min", (json_int_t)(h->count ? h->min : 0), "mean", histogram_mean(h), "p50",
        (json_int_t)histogram_quantile(h, 0.50), "p90", (json_int_t)histogram_quantile(h, 0.90),
        "p95", (json_int_t)histogram_quantile(h, 0.95), "p99",
        (json_int_t)histogram_quantile(h, 0.99), "p999", (json_int_t)histogram_quantile(h, 0.999),
        "max", (json_int_t)h->max, "sum", (json_int_t)h->sum, "buckets", buckets);
}

int histogram_from_json(const json_t *j, struct histogram *h)
{
    const json_t *buckets = json_object_get(j, "buckets");
    const json_t *count = json_object_get(j, "count"), *min = json_object_get(j, "min"),
                 *max = json_object_get(j, "max"), *sum = json_object_get(j, "sum");
    uint64_t total = 0;

    histogram_init(h);
    if (!json_is_array(buckets) || !json_is_integer(count) || !json_is_integer(min) ||
        !json_is_integer(max) || !json_is_integer(sum) || json_integer_value(count) < 0)
        return -1;
    for (size_t i = 0; i < json_array_size(buckets); i++) {
        const json_t *b = json_array_get(buckets, i);
        json_int_t idx = json_integer_value(json_array_get(b, 0));
        json_int_t n = json_integer_value(json_array_get(b, 1));

        if (!json_is_integer(json_array_get(b, 0)) || !json_is_integer(json_array_get(b, 1)) ||
            idx < 0 || idx >= HISTOGRAM_BUCKETS || n < 0)
            return -1;
        h->buckets[idx] += (uint64_t)n;
        total += (uint64_t)n;
    }
    if (total != (uint64_t)json_integer_value(count))
        return -1;
    h->count = total;
    h->sum = (uint64_t)json_integer_value(sum);
    if (total) {
        h->min = (uint64_t)json_integer_value(min);
        h->max = (uint64_t)json_integer_value(max);
    }
    return 0;
}
