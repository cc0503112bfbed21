package pcmoe

/*
#include <pcmoe.h>
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"unsafe"
)

// The library calls Go through the C trampolines of callbacks.c, which pass
// on the context pointer as a runtime/cgo.Handle. Every exported function
// below recovers a panic of the Go callback, because a panic must not unwind
// through C frames.

// CallbackPanicError reports a panic that a Go callback raised while the
// library called it. A panic in a progress or session callback cancels the
// running call, a panic in a byte callback stops the generation after that
// byte, and a panic in a send callback counts as a message that was not
// queued. The party's next Join, TrainTurn, Evaluate, EvaluateBytes,
// RunSession, Generate or ExportModel returns the error; usually that is
// the call during which the panic happened.
type CallbackPanicError struct {
	// Callback names the callback: "send", "progress", "session event" or "byte".
	Callback string
	// Value is the value given to panic, and Stack the stack where it was recovered.
	Value any
	Stack []byte
	// Err is the error the interrupted library call returned, or nil.
	Err error
}

func (e *CallbackPanicError) Error() string {
	text := fmt.Sprintf("pcmoe: the %s callback panicked: %v", e.Callback, e.Value)
	if e.Err != nil {
		text += "; the call then failed: " + e.Err.Error()
	}
	return text
}

// Unwrap returns the library error of the interrupted call, so errors.As
// also finds its *Error.
func (e *CallbackPanicError) Unwrap() error {
	return e.Err
}

// partyState is the state shared by the callbacks of one party. It has no
// pointer to the Party itself, so a handle that refers to it does not keep
// the Party reachable and its finalizer can still run.
type partyState struct {
	party *C.pcmoe_party

	mutex    sync.Mutex
	panicked *CallbackPanicError
}

// recordPanic keeps the first panic until finish reports it. With cancel,
// it also stops the running turn, evaluation or session of the party, which
// progress and session callbacks may do but a send callback may not.
func (s *partyState) recordPanic(callback string, value any, cancel bool) {
	s.mutex.Lock()
	if s.panicked == nil {
		s.panicked = &CallbackPanicError{Callback: callback, Value: value, Stack: debug.Stack()}
	}
	s.mutex.Unlock()
	if cancel {
		C.pcmoe_party_cancel(s.party)
	}
}

// finish returns err, or the recorded panic with err inside it, and clears
// the record.
func (s *partyState) finish(err error) error {
	s.mutex.Lock()
	panicked := s.panicked
	s.panicked = nil
	s.mutex.Unlock()
	if panicked == nil {
		return err
	}
	panicked.Err = err
	return panicked
}

type progressCallback struct {
	fn    func(Progress)
	state *partyState
}

type transportCallback struct {
	fn    func(destination uint32, message []byte) error
	state *partyState
}

type sessionCallback struct {
	fn    func(SessionEvent)
	state *partyState
}

type byteCallback struct {
	fn    func(byte) bool
	state *partyState
}

// handleValue returns the value of a handle, or nil for a handle that was
// deleted, which Value reports with a panic.
func handleValue(handle C.uintptr_t) (value any) {
	defer func() {
		if recover() != nil {
			value = nil
		}
	}()
	return cgo.Handle(handle).Value()
}

// copyBytes copies size bytes of library memory into a new Go slice.
func copyBytes(data *C.uint8_t, size C.size_t) []byte {
	out := make([]byte, size)
	if size > 0 {
		copy(out, unsafe.Slice((*byte)(unsafe.Pointer(data)), size))
	}
	return out
}

//export pcmoeGoLog
func pcmoeGoLog(handle C.uintptr_t, level C.int32_t, message *C.char) {
	fn, ok := handleValue(handle).(func(LogLevel, string))
	if !ok {
		return
	}
	defer func() {
		if value := recover(); value != nil {
			fmt.Fprintf(os.Stderr, "pcmoe: the log callback panicked: %v\n%s", value, debug.Stack())
		}
	}()
	fn(LogLevel(level), C.GoString(message))
}

//export pcmoeGoSend
func pcmoeGoSend(handle C.uintptr_t, destination C.uint32_t, data *C.uint8_t, size C.size_t) (result C.int) {
	callback, ok := handleValue(handle).(*transportCallback)
	if !ok {
		return 1
	}
	defer func() {
		if value := recover(); value != nil {
			callback.state.recordPanic("send", value, false)
			result = 1
		}
	}()
	if callback.fn(uint32(destination), copyBytes(data, size)) != nil {
		return 1
	}
	return 0
}

//export pcmoeGoProgress
func pcmoeGoProgress(handle C.uintptr_t, progress *C.pcmoe_progress) {
	callback, ok := handleValue(handle).(*progressCallback)
	if !ok {
		return
	}
	defer func() {
		if value := recover(); value != nil {
			callback.state.recordPanic("progress", value, true)
		}
	}()
	callback.fn(Progress{Stage: Stage(progress.stage), Done: uint64(progress.done), Total: uint64(progress.total)})
}

//export pcmoeGoSessionEvent
func pcmoeGoSessionEvent(handle C.uintptr_t, event *C.pcmoe_session_event) {
	callback, ok := handleValue(handle).(*sessionCallback)
	if !ok {
		return
	}
	defer func() {
		if value := recover(); value != nil {
			callback.state.recordPanic("session event", value, true)
		}
	}()
	callback.fn(sessionEventFromC(event))
}

//export pcmoeGoByte
func pcmoeGoByte(handle C.uintptr_t, value C.uint8_t) (stop C.int) {
	callback, ok := handleValue(handle).(*byteCallback)
	if !ok {
		return 1
	}
	defer func() {
		if value := recover(); value != nil {
			callback.state.recordPanic("byte", value, false)
			stop = 1
		}
	}()
	if callback.fn(byte(value)) {
		return 1
	}
	return 0
}
