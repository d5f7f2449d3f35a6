/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_SPEEDSCOPE_H
#define RAMPA_SPEEDSCOPE_H

#include <stdio.h>

#include "profile.h"

/* speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile per thread when stacks carry a "threadname-TID" frame
 * after the process root (that frame is then dropped from the stacks), else one
 * profile for everything. Unit "none" for samples, "microseconds" for time.
 * Python frames "qualname (file:LINE)" become {name, file, line}.
 */
int speedscope__write(FILE *f, const struct profile *p);

#endif
