/* vmlock: `vmlock start`, the one command the vmlock executable runs itself
 * (the others are in its daemon module, daemon_module.h). */
#pragma once

int cmd_start(int argc, char **argv);
