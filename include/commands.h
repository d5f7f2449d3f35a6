/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_COMMANDS_H
#define RAMPA_COMMANDS_H

#define RAMPA_VERSION "0.1.0"

/* Each subcommand gets argv starting at its own name. */
int cmd_record(int argc, char **argv);
int cmd_gil_wait(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_mem(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_agent(int argc, char **argv);

#endif
