package pcmoe

/*
#cgo pkg-config: pcmoe
#include <pcmoe.h>
#include "callbacks.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
)

// The version of the C header this package was built against, and of the
// wire protocol its parties speak.
const (
	HeaderVersionMajor = C.PCMOE_VERSION_MAJOR
	HeaderVersionMinor = C.PCMOE_VERSION_MINOR
	HeaderVersionPatch = C.PCMOE_VERSION_PATCH
	ProtocolVersion    = C.PCMOE_PROTOCOL_VERSION
)

// Version returns the version of the loaded library as "MAJOR.MINOR.PATCH".
func Version() string {
	return C.GoString(C.pcmoe_version())
}

// SetThreads sets how many threads the math of every party in this process
// uses, 1 to 1024. The results are the same bits for every thread count.
func SetThreads(count uint32) error {
	return call("pcmoe_set_threads", func() C.pcmoe_status {
		return C.pcmoe_set_threads(C.uint32_t(count))
	})
}

// Threads returns the thread count the math uses now.
func Threads() uint32 {
	return uint32(C.pcmoe_threads())
}

// PeakResidentBytes returns the peak resident set size of the whole process
// in bytes (VmHWM), or 0 where the operating system reports none.
func PeakResidentBytes() uint64 {
	return uint64(C.pcmoe_peak_resident_bytes())
}

// LogLevel is a pcmoe_log_level; a lower level is more severe.
type LogLevel int32

// The log levels of the C header.
const (
	LogError   LogLevel = C.PCMOE_LOG_ERROR
	LogWarning LogLevel = C.PCMOE_LOG_WARNING
	LogInfo    LogLevel = C.PCMOE_LOG_INFO
	LogDebug   LogLevel = C.PCMOE_LOG_DEBUG
)

// The handle of the installed log callback, replaced under logMutex.
var (
	logMutex  sync.Mutex
	logHandle cgo.Handle
)

// SetLogCallback sends every library log message of `level` or more severe
// to fn; a nil fn makes the library silent again, which is the default.
//
// fn runs on the thread that logs, one message at a time, and must not call
// SetLogCallback. A panic in fn is recovered: the message is dropped and the
// panic is written to standard error.
func SetLogCallback(level LogLevel, fn func(level LogLevel, message string)) error {
	logMutex.Lock()
	defer logMutex.Unlock()

	var handle cgo.Handle
	callback := C.pcmoe_log_fn(nil)
	if fn != nil {
		handle = cgo.NewHandle(fn)
		callback = C.pcmoe_log_fn(C.pcmoe_go_log)
	}
	err := call("pcmoe_set_log_callback", func() C.pcmoe_status {
		return C.pcmoe_set_log_callback(C.int32_t(level), callback, C.pcmoe_go_context(C.uintptr_t(handle)))
	})
	if err != nil {
		if handle != 0 {
			handle.Delete()
		}
		return err
	}
	// NOTE: a message logged on another thread while the callback is being
	// replaced may still reach the old handle; pcmoeGoLog then drops it.
	if logHandle != 0 {
		logHandle.Delete()
	}
	logHandle = handle
	return nil
}
