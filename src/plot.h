/* plot: pictures of results documents, drawn by gnuplot.
 *
 * Several runs (a sweep, or several files): stacked outcome fractions and
 * connect/accept latency percentiles against the swept parameter. One run:
 * the timeline of attempted/established/failed connections and the accept
 * queue's depth against its capacity. The script carries its data inline
 * (datablocks), so nothing but the picture is written. */
#ifndef QB_PLOT_H
#define QB_PLOT_H

#include <stddef.h>

#include <jansson.h>

enum plot_format { PLOT_PNG, PLOT_SVG };

/* The format an output file name asks for; -1 if neither .png nor .svg. */
int plot_format_of(const char *path);

/* Builds the gnuplot script for docs (loaded results) drawing into
 * output_path. x_param: the params key for the x axis, or NULL to pick the
 * one that varies. The caller frees *script. */
int plot_script(json_t *const *docs, size_t ndocs, const char *x_param, enum plot_format fmt,
                const char *output_path, char **script, char *err, size_t errlen);

/* Runs gnuplot on script; the picture appears at output_path only if
 * gnuplot succeeded (drawn to a temporary file, then renamed). */
int plot_render(const char *script_for_tmp_output, const char *tmp_path, const char *output_path,
                char *err, size_t errlen);

#endif
