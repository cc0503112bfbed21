package pcmoe

/*
#include <pcmoe.h>
#include <stdlib.h>
#include "callbacks.h"
*/
import "C"

import (
	"math"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// SessionEventKind is a pcmoe_session_event_kind.
type SessionEventKind int32

// The session events of the C header.
const (
	// SessionJoined: every party loaded the checkpoint taken after Turn
	// turns; the first event of a session, and the one after each fault.
	SessionJoined SessionEventKind = C.PCMOE_SESSION_JOINED
	// SessionTurn: the party finished turn Turn with training loss Loss.
	SessionTurn SessionEventKind = C.PCMOE_SESSION_TURN
	// SessionSaved: the party saved its checkpoint after Turn turns.
	SessionSaved SessionEventKind = C.PCMOE_SESSION_SAVED
	// SessionFault: the session broke for the reason in Message, and every
	// party joins again.
	SessionFault SessionEventKind = C.PCMOE_SESSION_FAULT
	// SessionEvaluated: the party scored its held-out text with validation
	// loss Loss; the last event of a session that succeeds.
	SessionEvaluated SessionEventKind = C.PCMOE_SESSION_EVALUATED
)

// SessionEvent is one event of a session, a pcmoe_session_event.
type SessionEvent struct {
	Kind SessionEventKind
	// Resumed is set on a JOINED event when the party resumed from a checkpoint.
	Resumed bool
	// Turn is the turns complete in the checkpoint (JOINED, SAVED) or the
	// turn number (TURN); 0 for the other kinds.
	Turn uint64
	// Loss is the training loss (TURN) or the validation loss in nats
	// (EVALUATED); NaN for the other kinds.
	Loss float64
	// Message is the reason of a FAULT; empty for the other kinds.
	Message string
}

// sessionEventFromC copies an event, reading only the fields that end
// within the struct_size the library filled.
func sessionEventFromC(e *C.pcmoe_session_event) SessionEvent {
	filled := uintptr(e.struct_size)
	has := func(offset, size uintptr) bool { return offset+size <= filled }
	event := SessionEvent{Loss: math.NaN()}
	if has(unsafe.Offsetof(e.kind), unsafe.Sizeof(e.kind)) {
		event.Kind = SessionEventKind(e.kind)
	}
	if has(unsafe.Offsetof(e.resumed), unsafe.Sizeof(e.resumed)) {
		event.Resumed = e.resumed != 0
	}
	if has(unsafe.Offsetof(e.turn), unsafe.Sizeof(e.turn)) {
		event.Turn = uint64(e.turn)
	}
	if has(unsafe.Offsetof(e.loss), unsafe.Sizeof(e.loss)) {
		event.Loss = float64(e.loss)
	}
	if has(unsafe.Offsetof(e.message), unsafe.Sizeof(e.message)) && e.message != nil {
		event.Message = C.GoString(e.message)
	}
	return event
}

// RunSession runs this party through a whole coordinated session and
// returns its final evaluation: it joins the other parties, takes its turns
// round robin, saves checkpoints, scores its held-out text and waits for
// every party to finish. Every party of the session runs its own RunSession.
// The party needs its training data and, with more than one party, a
// transport. The C header's pcmoe_party_run_session describes start-up,
// faults and cancellation.
//
// onEvent may be nil. It runs on this goroutine's thread, except SAVED after
// another party's turn, which runs on the thread that delivers the party's
// messages. Its calls never overlap, and none comes after RunSession returns.
// onEvent may call only Metrics and Cancel of this party, and should return
// quickly. A panic in onEvent cancels the session, and RunSession returns a
// *CallbackPanicError.
func (p *Party) RunSession(params SessionParams, onEvent func(SessionEvent)) (Evaluation, error) {
	var folder *C.char
	if params.CheckpointFolder != "" {
		folder = C.CString(params.CheckpointFolder)
		defer C.free(unsafe.Pointer(folder))
	}
	c := params.toC(folder)

	var handle cgo.Handle
	callback := C.pcmoe_session_fn(nil)
	if onEvent != nil {
		handle = cgo.NewHandle(&sessionCallback{fn: onEvent, state: p.state})
		defer handle.Delete()
		callback = C.pcmoe_session_fn(C.pcmoe_go_session_event)
	}

	var result C.pcmoe_evaluation
	err := call("pcmoe_party_run_session", func() C.pcmoe_status {
		return C.pcmoe_party_run_session(p.ptr, &c, callback, C.pcmoe_go_context(C.uintptr_t(handle)), &result,
			C.sizeof_pcmoe_evaluation)
	})
	runtime.KeepAlive(p)
	if err = p.state.finish(err); err != nil {
		return Evaluation{}, err
	}
	return evaluationFromC(&result), nil
}
