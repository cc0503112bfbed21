package pcmoe

/*
#include <pcmoe.h>
#include "callbacks.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
)

// Join greets every other party and checks that they run the same session.
// In a session of more than one party, turns and evaluations are refused
// until it succeeded, and again after Load.
func (p *Party) Join() error {
	err := call("pcmoe_party_join", func() C.pcmoe_status {
		return C.pcmoe_party_join(p.ptr)
	})
	runtime.KeepAlive(p)
	return p.state.finish(err)
}

// TurnResult is the measurements of a training turn, a pcmoe_turn_result.
type TurnResult struct {
	Turn uint64
	// GlobalStep is the optimizer step the turn took, from 1.
	GlobalStep uint64
	// Loss is the training loss: cross-entropy plus 0.01 times the balance losses.
	Loss float64
	// CrossEntropy is the mean next-byte cross-entropy in nats.
	CrossEntropy float64
	LearningRate float64
	// GradientNorm is the backbone's gradient norm before clipping.
	GradientNorm float64
}

// TrainTurn takes global training turn `turn` (from 1, above every turn of
// the session that completed before it) on the next batch of this party's
// data. It blocks until done; Cancel stops it.
func (p *Party) TrainTurn(turn uint64) (TurnResult, error) {
	var c C.pcmoe_turn_result
	err := call("pcmoe_party_train_turn", func() C.pcmoe_status {
		return C.pcmoe_party_train_turn(p.ptr, C.uint64_t(turn), &c, C.sizeof_pcmoe_turn_result)
	})
	runtime.KeepAlive(p)
	if err = p.state.finish(err); err != nil {
		return TurnResult{}, err
	}
	return TurnResult{
		Turn:         uint64(c.turn),
		GlobalStep:   uint64(c.global_step),
		Loss:         float64(c.loss),
		CrossEntropy: float64(c.cross_entropy),
		LearningRate: float64(c.learning_rate),
		GradientNorm: float64(c.gradient_norm),
	}, nil
}

// Evaluation is the result of an evaluation, a pcmoe_evaluation.
type Evaluation struct {
	// Loss is the mean next-byte cross-entropy in nats, BitsPerByte the same in bits.
	Loss        float64
	BitsPerByte float64
	// Tokens counts the bytes predicted.
	Tokens uint64
}

func evaluationFromC(c *C.pcmoe_evaluation) Evaluation {
	return Evaluation{Loss: float64(c.loss), BitsPerByte: float64(c.bits_per_byte), Tokens: uint64(c.tokens)}
}

// Evaluate scores the held-out tenth of this party's data in windows of
// SeqLen + 1 bytes, at most maxWindows of them (0: all).
func (p *Party) Evaluate(maxWindows uint64) (Evaluation, error) {
	var c C.pcmoe_evaluation
	err := call("pcmoe_party_evaluate", func() C.pcmoe_status {
		return C.pcmoe_party_evaluate(p.ptr, C.uint64_t(maxWindows), &c, C.sizeof_pcmoe_evaluation)
	})
	runtime.KeepAlive(p)
	if err = p.state.finish(err); err != nil {
		return Evaluation{}, err
	}
	return evaluationFromC(&c), nil
}

// EvaluateBytes scores text as Evaluate scores the held-out text.
func (p *Party) EvaluateBytes(text []byte, maxWindows uint64) (Evaluation, error) {
	var c C.pcmoe_evaluation
	err := call("pcmoe_party_evaluate_bytes", func() C.pcmoe_status {
		return C.pcmoe_party_evaluate_bytes(p.ptr, bytesPointer(text), C.size_t(len(text)), C.uint64_t(maxWindows),
			&c, C.sizeof_pcmoe_evaluation)
	})
	runtime.KeepAlive(p)
	if err = p.state.finish(err); err != nil {
		return Evaluation{}, err
	}
	return evaluationFromC(&c), nil
}

// Stage is a pcmoe_stage: the kind of long work a progress report is about.
type Stage int32

// The stages of the C header.
const (
	// StageTrainTurn is reported once, when a turn completes.
	StageTrainTurn Stage = C.PCMOE_STAGE_TRAIN_TURN
	// StageEvaluate is reported after each batch of windows.
	StageEvaluate Stage = C.PCMOE_STAGE_EVALUATE
)

// Progress is a progress report, a pcmoe_progress.
type Progress struct {
	Stage Stage
	// Done and Total count turns or windows scored.
	Done  uint64
	Total uint64
}

// SetProgressCallback sends this party's progress reports to fn; nil
// stops them. fn runs on the thread of the reported call and may call only
// Cancel and Metrics of this party. A panic in fn cancels the call, which
// then returns a *CallbackPanicError. Not during a turn or evaluation.
func (p *Party) SetProgressCallback(fn func(Progress)) error {
	var handle cgo.Handle
	callback := C.pcmoe_progress_fn(nil)
	if fn != nil {
		handle = cgo.NewHandle(&progressCallback{fn: fn, state: p.state})
		callback = C.pcmoe_progress_fn(C.pcmoe_go_progress)
	}
	err := call("pcmoe_party_set_progress_callback", func() C.pcmoe_status {
		return C.pcmoe_party_set_progress_callback(p.ptr, callback, C.pcmoe_go_context(C.uintptr_t(handle)))
	})
	runtime.KeepAlive(p)
	p.replaceHandle(&p.progress, handle, err)
	return err
}

// replaceHandle stores the handle of a callback the library accepted and
// deletes the one it replaced, or deletes the new handle after an error.
func (p *Party) replaceHandle(slot *cgo.Handle, handle cgo.Handle, err error) {
	if err != nil {
		if handle != 0 {
			handle.Delete()
		}
		return
	}
	if *slot != 0 {
		slot.Delete()
	}
	*slot = handle
}
