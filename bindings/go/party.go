package pcmoe

/*
#include <pcmoe.h>
#include <stdlib.h>
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Party is one party of a session, a pcmoe_party: its backbone, its expert
// shard, their optimizer state and its training data.
//
// Release it with Close. The methods follow the thread rules of the C
// header: HandleMessage, Metrics, Cancel and AllowExport may run on any
// goroutine at any time, the other methods one at a time, and none during
// or after Close.
// A method called after Close passes NULL to the library, which rejects it
// with StatusInvalidArgument.
type Party struct {
	ptr   *C.pcmoe_party
	state *partyState

	// closeMutex makes Close safe to call twice, also from two goroutines.
	closeMutex sync.Mutex
	// The handles the library keeps as context until the callback is
	// replaced or the party destroyed.
	progress  cgo.Handle
	transport cgo.Handle
}

func newParty(ptr *C.pcmoe_party) *Party {
	p := &Party{ptr: ptr, state: &partyState{party: ptr}}
	// The finalizer is a safety net for a Party dropped without Close; it
	// runs at an unknown time on the finalizer goroutine, so call Close.
	runtime.SetFinalizer(p, (*Party).Close)
	return p
}

// NewParty creates a party from params, which must come from DefaultPartyParams.
func NewParty(params PartyParams) (*Party, error) {
	c := params.toC()
	var ptr *C.pcmoe_party
	err := call("pcmoe_party_create", func() C.pcmoe_status {
		return C.pcmoe_party_create(&c, &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newParty(ptr), nil
}

// NewPartyFromConfig creates a party from a JSON configuration file and
// loads the training data the file names, if any.
func NewPartyFromConfig(path string) (*Party, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var ptr *C.pcmoe_party
	err := call("pcmoe_party_create_from_config", func() C.pcmoe_status {
		return C.pcmoe_party_create_from_config(cpath, &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newParty(ptr), nil
}

// Close releases the party and everything it holds. A hub it is attached
// to forgets it, and a network made for it drops what arrives for it.
// Stop delivering messages to the party first. Close is safe to call more
// than once and always returns nil.
func (p *Party) Close() error {
	p.closeMutex.Lock()
	defer p.closeMutex.Unlock()
	if p.ptr == nil {
		return nil
	}
	C.pcmoe_party_destroy(p.ptr)
	p.ptr = nil
	// The library calls no callback of a destroyed party.
	for _, handle := range []cgo.Handle{p.progress, p.transport} {
		if handle != 0 {
			handle.Delete()
		}
	}
	p.progress, p.transport = 0, 0
	runtime.SetFinalizer(p, nil)
	return nil
}

// LoadDataFile loads training text from a file or a folder (read
// recursively; gzip and dictzip files are decompressed), replacing any text
// loaded before. The last tenth is held out for Evaluate.
func (p *Party) LoadDataFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	err := call("pcmoe_party_load_data_file", func() C.pcmoe_status {
		return C.pcmoe_party_load_data_file(p.ptr, cpath)
	})
	runtime.KeepAlive(p)
	return err
}

// LoadData uses text as training text, as LoadDataFile does; the library
// copies it.
func (p *Party) LoadData(text []byte) error {
	err := call("pcmoe_party_load_data", func() C.pcmoe_status {
		return C.pcmoe_party_load_data(p.ptr, bytesPointer(text), C.size_t(len(text)))
	})
	runtime.KeepAlive(p)
	return err
}

// Save writes what this party owns to a safetensors file at path,
// atomically. Between turns only.
func (p *Party) Save(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	err := call("pcmoe_party_save", func() C.pcmoe_status {
		return C.pcmoe_party_save(p.ptr, cpath)
	})
	runtime.KeepAlive(p)
	return err
}

// Load reads a checkpoint that Save wrote for the same party, session and
// settings. A failed load changes nothing. The party must Join again before
// its next turn or evaluation.
func (p *Party) Load(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	err := call("pcmoe_party_load", func() C.pcmoe_status {
		return C.pcmoe_party_load(p.ptr, cpath)
	})
	runtime.KeepAlive(p)
	return err
}

// Cancel makes the turn, evaluation or session running on this party stop
// soon with StatusCancelled. Safe from any goroutine and from callbacks.
func (p *Party) Cancel() error {
	err := call("pcmoe_party_cancel", func() C.pcmoe_status {
		return C.pcmoe_party_cancel(p.ptr)
	})
	runtime.KeepAlive(p)
	return err
}

// Metrics is a snapshot of a party's counters, a pcmoe_metrics.
type Metrics struct {
	PartyID    uint32
	PartyCount uint32
	// Turns counts this party's training turns; ExpertSteps the optimizer
	// steps of its experts, one per turn of any party.
	Turns       uint64
	ExpertSteps uint64
	// LastLoss is the loss of the party's last turn; NaN before its first
	// turn since it was created or loaded.
	LastLoss float64
	// Envelope bytes sent and received, and incoming messages rejected or dropped.
	BytesSent        uint64
	BytesReceived    uint64
	MessagesRejected uint64
	// Peak bytes held in tensors, by kind, and the peak of their sum.
	PeakParameterBytes        uint64
	PeakGradientBytes         uint64
	PeakOptimizerBytes        uint64
	PeakActivationBytes       uint64
	PeakServedActivationBytes uint64
	PeakTotalBytes            uint64
	// Bytes of the loaded text used for training and held out.
	TrainBytes      uint64
	ValidationBytes uint64
	// Envelopes sent and received. A request sent again after a timeout
	// counts again. The struct is zeroed before the call, so a field the
	// library leaves unwritten reads 0.
	MessagesSent     uint64
	MessagesReceived uint64
}

// Metrics returns a snapshot of the party's counters. Safe from any goroutine.
func (p *Party) Metrics() (Metrics, error) {
	var c C.pcmoe_metrics
	err := call("pcmoe_party_metrics", func() C.pcmoe_status {
		return C.pcmoe_party_metrics(p.ptr, &c, C.sizeof_pcmoe_metrics)
	})
	runtime.KeepAlive(p)
	if err != nil {
		return Metrics{}, err
	}
	return Metrics{
		PartyID:                   uint32(c.party_id),
		PartyCount:                uint32(c.party_count),
		Turns:                     uint64(c.turns),
		ExpertSteps:               uint64(c.expert_steps),
		LastLoss:                  float64(c.last_loss),
		BytesSent:                 uint64(c.bytes_sent),
		BytesReceived:             uint64(c.bytes_received),
		MessagesRejected:          uint64(c.messages_rejected),
		PeakParameterBytes:        uint64(c.peak_parameter_bytes),
		PeakGradientBytes:         uint64(c.peak_gradient_bytes),
		PeakOptimizerBytes:        uint64(c.peak_optimizer_bytes),
		PeakActivationBytes:       uint64(c.peak_activation_bytes),
		PeakServedActivationBytes: uint64(c.peak_served_activation_bytes),
		PeakTotalBytes:            uint64(c.peak_total_bytes),
		TrainBytes:                uint64(c.train_bytes),
		ValidationBytes:           uint64(c.validation_bytes),
		MessagesSent:              uint64(c.messages_sent),
		MessagesReceived:          uint64(c.messages_received),
	}, nil
}

// bytesPointer returns the address of b's first byte, or nil for an empty
// slice. The library reads the bytes during the call and keeps no pointer.
func bytesPointer(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}
