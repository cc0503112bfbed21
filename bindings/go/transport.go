package pcmoe

/*
#include <pcmoe.h>
#include "callbacks.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
)

// SetTransport makes send carry this party's requests and replies,
// replacing any transport set before, a hub's or a network's included.
// Call it before Join, not during a turn.
//
// send receives a copy of each message, which it may keep. It must queue
// the message for party `destination` and return at once, without blocking
// on the peer or calling into this party on the same goroutine. Later, any
// goroutine hands the queued bytes to the destination's HandleMessage.
// A non-nil error means the message was not queued: the library logs a
// warning, and the call waiting for the reply fails after its timeout.
// send may run on several threads at once. A panic in send counts as an
// error and is returned as a *CallbackPanicError by the party's next Join,
// TrainTurn, Evaluate, EvaluateBytes or RunSession.
func (p *Party) SetTransport(send func(destination uint32, message []byte) error) error {
	var handle cgo.Handle
	callback := C.pcmoe_send_fn(nil)
	if send != nil {
		handle = cgo.NewHandle(&transportCallback{fn: send, state: p.state})
		callback = C.pcmoe_send_fn(C.pcmoe_go_send)
	}
	err := call("pcmoe_party_set_transport", func() C.pcmoe_status {
		return C.pcmoe_party_set_transport(p.ptr, callback, C.pcmoe_go_context(C.uintptr_t(handle)))
	})
	runtime.KeepAlive(p)
	p.replaceHandle(&p.transport, handle, err)
	return err
}

// Message is a message the library produced for a transport to send.
type Message struct {
	// Destination is the party it goes to, or -1 when the incoming bytes
	// named no valid sender. A transport that has the connection then sends
	// the reply on it.
	Destination int32
	// Bytes is the serialized envelope, a copy owned by the caller; empty
	// when there is nothing to send.
	Bytes []byte
}

// HandleMessage handles message bytes that arrived for this party and
// returns the reply to send, whose Bytes are empty when there is none.
// A message the party rejects fails with StatusBadMessage and may still
// return an error reply, which the transport must deliver as usual.
// Safe from any goroutine, concurrently with every other method except
// Close; deliver messages on another goroutine than the party's turn.
func (p *Party) HandleMessage(message []byte) (Message, error) {
	reply := C.pcmoe_message{destination: -1}
	err := call("pcmoe_party_handle_message", func() C.pcmoe_status {
		return C.pcmoe_party_handle_message(p.ptr, bytesPointer(message), C.size_t(len(message)), &reply)
	})
	runtime.KeepAlive(p)
	// The library's buffer is copied and freed at once, so no C memory
	// outlives the call.
	out := Message{Destination: int32(reply.destination), Bytes: copyBytes(reply.bytes, reply.size)}
	C.pcmoe_message_free(&reply)
	return out, err
}

// Hub is an in-process transport, a pcmoe_hub: it delivers messages between
// the parties of one process, each party with its own inbox thread.
type Hub struct {
	ptr   *C.pcmoe_hub
	mutex sync.Mutex
}

// NewHub creates a hub for parties 0 ... partyCount - 1.
func NewHub(partyCount uint32) (*Hub, error) {
	var ptr *C.pcmoe_hub
	err := call("pcmoe_hub_create", func() C.pcmoe_status {
		return C.pcmoe_hub_create(C.uint32_t(partyCount), &ptr)
	})
	if err != nil {
		return nil, err
	}
	h := &Hub{ptr: ptr}
	// A safety net for a Hub dropped without Close.
	runtime.SetFinalizer(h, (*Hub).Close)
	return h, nil
}

// Attach makes the hub carry the party's messages and deliver those
// addressed to its id, replacing any transport the party had. Attach every
// party before any of them joins. The hub does not own the party.
func (h *Hub) Attach(party *Party) error {
	err := call("pcmoe_hub_attach", func() C.pcmoe_status {
		return C.pcmoe_hub_attach(h.ptr, party.ptr)
	})
	runtime.KeepAlive(h)
	runtime.KeepAlive(party)
	return err
}

// Close releases the caller's reference to the hub; attached parties keep
// using it until they are closed. Safe to call more than once; returns nil.
func (h *Hub) Close() error {
	h.mutex.Lock()
	defer h.mutex.Unlock()
	if h.ptr != nil {
		C.pcmoe_hub_destroy(h.ptr)
		h.ptr = nil
		runtime.SetFinalizer(h, nil)
	}
	return nil
}
