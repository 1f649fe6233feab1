// C bindings for libtracecmd, libtraceevent and libtracefs.
// Only declarations and small static inline shims live here: Swift cannot call
// variadic C functions, and a few libtracecmd entry points are exported by the
// shared object but not declared in its public header.
#ifndef WBREPLAY_CTRACE_SHIM_H
#define WBREPLAY_CTRACE_SHIM_H

#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include <tracefs/tracefs.h>

#endif
