/* plot: pictures of results documents, drawn by gnuplot.
 *
 * Several runs (a sweep, or several files): stacked outcome fractions and
 * connect/accept latency percentiles against the swept parameter. One run:
 * the timeline of attempted/established/failed connections and the accept
 * queue's depth against its capacity. The script carries its data inline
 * (datablocks, numbers only), so nothing but the picture is written. */
#ifndef QB_PLOT_H
#define QB_PLOT_H

#include <stddef.h>

#include <jansson.h>

enum plot_format { PLOT_PNG, PLOT_SVG };

/* The format an output file name asks for; -1 if neither .png nor .svg. */
int plot_format_of(const char *path);

/* Builds the gnuplot script for docs (loaded results). The script draws
 * to gnuplot's standard output and names no file. x_param: the key for the
 * x axis, or NULL to pick what varies. The caller frees *script. Every
 * string taken from the documents is written as a gnuplot single-quoted
 * string, where gnuplot substitutes nothing. */
int plot_script(json_t *const *docs, size_t ndocs, const char *x_param, enum plot_format fmt,
                char **script, char *err, size_t errlen);

/* Runs gnuplot on script with its standard output on out_fd (a temporary
 * file from safefile); fails if gnuplot fails or draws nothing. */
int plot_render(const char *script, int out_fd, char *err, size_t errlen);

#endif
