package pcmoe

/*
#include <pcmoe.h>
*/
import "C"

import (
	"fmt"
	"runtime"
)

// Status is a pcmoe_status: the result of every library call that can fail.
// The values are fixed by the C header.
type Status int32

// The statuses of the C header.
const (
	StatusOK                Status = C.PCMOE_OK
	StatusInvalidArgument   Status = C.PCMOE_ERROR_INVALID_ARGUMENT
	StatusInvalidConfig     Status = C.PCMOE_ERROR_INVALID_CONFIG
	StatusInvalidData       Status = C.PCMOE_ERROR_INVALID_DATA
	StatusInvalidCheckpoint Status = C.PCMOE_ERROR_INVALID_CHECKPOINT
	StatusIO                Status = C.PCMOE_ERROR_IO
	StatusNonFinite         Status = C.PCMOE_ERROR_NON_FINITE
	StatusCancelled         Status = C.PCMOE_ERROR_CANCELLED
	StatusPeer              Status = C.PCMOE_ERROR_PEER
	StatusBadMessage        Status = C.PCMOE_ERROR_BAD_MESSAGE
	StatusBufferTooSmall    Status = C.PCMOE_ERROR_BUFFER_TOO_SMALL
	StatusInternal          Status = C.PCMOE_ERROR_INTERNAL
)

// String returns the library's short English name of the status, such as
// "invalid argument", or "unknown status" for a value the library does not list.
func (s Status) String() string {
	return C.GoString(C.pcmoe_status_string(C.pcmoe_status(s)))
}

// Error is a failed library call: its status and the message that
// pcmoe_last_error returned right after it.
type Error struct {
	// Op is the C function that failed, such as "pcmoe_party_create".
	Op      string
	Status  Status
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Status, e.Message)
}

// call runs one status-returning library call and turns a failure into an
// *Error that carries pcmoe_last_error's message.
//
// pcmoe_last_error is per OS thread, and Go may move a goroutine to another
// thread between two cgo calls. Locking the goroutine to its thread for the
// call and the read keeps both on one thread, and no other goroutine runs on
// a locked thread in between. The lock replaces a C wrapper per function,
// so every library function is called directly from Go. Go counts nested
// locks, so a callback that makes its own call during fn is fine.
func call(op string, fn func() C.pcmoe_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := fn()
	if status == C.PCMOE_OK {
		return nil
	}
	return &Error{Op: op, Status: Status(status), Message: C.GoString(C.pcmoe_last_error())}
}
