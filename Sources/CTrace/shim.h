// C bindings for libtracecmd, libtraceevent and libtracefs.
// Only declarations and small static inline shims live here: Swift cannot call
// variadic C functions, a few libtracecmd entry points are exported by the
// shared object but not declared in its public header, and a forked child must
// run no Swift (wbr_fork_open_probe).
#ifndef WBREPLAY_CTRACE_SHIM_H
#define WBREPLAY_CTRACE_SHIM_H

#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include <tracefs/tracefs.h>
// The two compressions trace.dat v7 uses, for checking a file before libtracecmd
// opens it (see DatV7Chunks).
#include <zlib.h>
#include <zstd.h>

// Exported by libtracecmd.so.1 but declared only in trace-cmd's private header
// (lib/trace-cmd/include/private/trace-cmd-private.h, trace-cmd 3.1.x). The
// signatures below are copied from that header's declarations.

/// The clock the trace was recorded with ("local", "mono", …), or NULL.
const char *tracecmd_get_trace_clock(struct tracecmd_input *handle);
/// The per-CPU ring-buffer statistics of every buffer, as one text blob
/// ("CPU: 0\nentries: …\noverrun: …", instances introduced by "Buffer: NAME").
const char *tracecmd_get_cpustats(struct tracecmd_input *handle);
/// "sysname nodename release machine" of the recording machine, or NULL.
const char *tracecmd_get_uname(struct tracecmd_input *handle);
/// The number of CPUs the file has data slots for.
int tracecmd_cpus(struct tracecmd_input *handle);
/// The trace.dat file version (6 or 7).
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);
/// The next record of `cpu` without consuming it (owned by the handle).
struct tep_record *tracecmd_peek_data(struct tracecmd_input *handle, int cpu);

/// Moves `cpu`'s read position to the record at `offset` (a record's `offset`).
int tracecmd_set_cursor(struct tracecmd_input *handle, int cpu, unsigned long long offset);
/// The compression of the file's sections ("zstd", "zlib"; fails when none).
int tracecmd_get_file_compress_proto(struct tracecmd_input *handle,
				     const char **name, const char **version);

/// The size of `cpu`'s data (uncompressed; records' offsets lie in it).
off_t tracecmd_get_cpu_file_size(struct tracecmd_input *handle, int cpu);
/// The ring-buffer page size the file was recorded with.
int tracecmd_page_size(struct tracecmd_input *handle);

/// The pointer to the record's payload, for Swift (the field is `void *`).
static inline const unsigned char *wbr_record_data(const struct tep_record *record)
{
	return (const unsigned char *)record->data;
}

// For DatOpenGuard's signal handler: `syscall` is variadic, and glibc 2.36's
// header declares `gettid` only under _GNU_SOURCE.
#include <sys/syscall.h>
#include <unistd.h>

/// The calling thread's id.
static inline pid_t wbr_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/// The opening thread's id, written by it and read by a signal handler on any thread.
static inline int wbr_load_thread(const int *word)
{
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static inline void wbr_store_thread(int *word, int value)
{
	__atomic_store_n(word, value, __ATOMIC_RELEASE);
}

// The body of DatOpenProbe's child, whole, in C. Between `fork` and `_exit`
// a child of a multi-threaded process may only run code that takes no lock
// another thread could have held at the fork: Swift code there is not such
// code (a debug build's first read of a `static let` runs a one-time
// initialiser whose lock may be the parent's, generic code asks the runtime's
// metadata caches), so no Swift runs in the child at all.
#include <fcntl.h>
#include <signal.h>

/// Forks a child that opens `path` with libtracecmd (`flags`), and each
/// buffer instance, and ends with `_exit(opened)`, or `_exit(refused)` where
/// libtracecmd refuses it; a crash ends it by the signal. Returns the child's
/// pid to the parent, or -1 (errno set) when the fork fails.
static inline pid_t wbr_fork_open_probe(const char *path, int flags, int opened, int refused)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	// No output; default crash handling, so that a crash ends the child by signal.
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	struct tracecmd_input *handle = tracecmd_open(path, flags);
	if (!handle)
		_exit(refused);
	int instances = tracecmd_buffer_instances(handle);
	for (int index = 0; index < instances; index++) {
		struct tracecmd_input *instance = tracecmd_buffer_instance_handle(handle, index);
		if (!instance)
			_exit(refused);
		tracecmd_close(instance);
	}
	_exit(opened);
}

#endif
