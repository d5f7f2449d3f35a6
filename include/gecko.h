/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_GECKO_H
#define RAMPA_GECKO_H

#include <stdio.h>

#include "profile.h"

/* The Firefox Profiler's "gecko" profile format (meta.version 29), inside
 * the wrapper of a Firefox DevTools export ({"profile": ..., "duration":
 * ms, "systemHost": {"name": "Firefox"}}) that the Firefox Profiler unwraps
 * and speedscope's Firefox importer requires.
 *
 * One thread per process root frame, or per "NAME-TID" frame (-T) under
 * it; a "NAME-PID" frame (--per-process) gives the process's name and PID.
 * A process's main thread (or the whole process when threads are not
 * split) is named "GeckoMain", the Firefox Profiler's name for it: the
 * thread whose TID is the PID, else Python's "MainThread-TID", else the
 * thread named as its process.
 *
 * Samples follow the timeline, in time order: the weight of a stack in a
 * time slice becomes that many samples (one per sample in cpu and gil
 * modes, one per sampling period in time units otherwise), spread evenly
 * over the slice. A profile without a timeline is one slice as long as the
 * profile. Frames are categorised by kind (Python, stdlib, site-packages,
 * native, kernel, off-CPU, not named); the mode and unit are in
 * meta.product and meta.extra.
 */
/*
 * Within a slice the samples come stack by stack (the order finer than a
 * slice is not known), except those the profile has instants for
 * (profile__sample_times): a stack's k-th sample at its k-th instant, each
 * thread's samples sorted by time. The profile's markers (real off-CPU intervals and GIL
 * waits, profile.h) become interval markers of type GECKO_MARKER_TYPE in
 * their thread, described by meta.markerSchema.
 */
int gecko__write(FILE *f, const struct profile *p);

/* Samples a file holds at most; past it each sample stands for more weight
 * (said on stderr).
 */
#define GECKO_MAX_SAMPLES (1u << 20)

/* The type of the markers' data: real intervals (profile.h's markers). */
#define GECKO_MARKER_TYPE "rampa-bpf-wait"

#endif
