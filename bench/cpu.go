package bench

import (
	"syscall"
	"time"
	"unsafe"
)

// CPUTime returns the CPU time (user and system) the process has used so
// far. Per operation it is steadier than wall time on a busy machine, and
// for SQLite, which runs in the process, it is the whole cost.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ThreadCPUTime returns the CPU time the calling OS thread has used so far
// (CLOCK_THREAD_CPUTIME_ID), 0 if the clock cannot be read. With the
// goroutine locked to its thread (runtime.LockOSThread) it counts that
// goroutine's work, cgo calls included, and not the time it waits for a
// core on a busy machine, nor the garbage collector's background work on
// other threads.
func ThreadCPUTime() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
