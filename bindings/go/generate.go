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

// SamplingParams set how Generate draws each byte, a pcmoe_sampling_params.
// Get them from DefaultSamplingParams, then change fields. The library
// rejects a SamplingParams that did not come from it.
type SamplingParams struct {
	// Temperature divides the logits before the softmax, 0 to 100. With 0,
	// each byte is the most likely one (the lowest byte value on a tie).
	Temperature float64
	// TopK limits the draw to the TopK most likely bytes, 0 to 256. With 0,
	// every byte may be drawn.
	TopK uint32
	// TopP limits the draw to the smallest set of most likely bytes whose
	// probabilities sum to at least TopP, above 0 and at most 1. With 1,
	// every byte may be drawn.
	TopP float64
	// Seed seeds the draws: the same seed, prompt and model give the same bytes.
	Seed uint64

	// structSize is the struct_size that pcmoe_sampling_default_params set.
	structSize C.size_t
}

// DefaultSamplingParams returns the library's default sampling settings:
// temperature 1, top-k 0, top-p 1 and seed 1.
func DefaultSamplingParams() (SamplingParams, error) {
	var c C.pcmoe_sampling_params
	err := call("pcmoe_sampling_default_params", func() C.pcmoe_status {
		return C.pcmoe_sampling_default_params(&c, C.sizeof_pcmoe_sampling_params)
	})
	if err != nil {
		return SamplingParams{}, err
	}
	return SamplingParams{
		Temperature: float64(c.temperature),
		TopK:        uint32(c.top_k),
		TopP:        float64(c.top_p),
		Seed:        uint64(c.seed),
		structSize:  c.struct_size,
	}, nil
}

func (s *SamplingParams) toC() C.pcmoe_sampling_params {
	return C.pcmoe_sampling_params{
		struct_size: s.structSize,
		temperature: C.double(s.Temperature),
		top_k:       C.uint32_t(s.TopK),
		top_p:       C.double(s.TopP),
		seed:        C.uint64_t(s.Seed),
	}
}

// Generate continues prompt by up to maxBytes bytes with this party's model
// and passes each byte to onByte as soon as it is drawn. onByte returns true
// to stop after that byte. A nil sampling uses the library's defaults.
// Generate returns how many bytes reached onByte, also when it fails.
//
// The library rejects an empty prompt, a nil onByte and a maxBytes above
// 1000000. A negative maxBytes wraps to a size_t above that limit.
//
// Generation requests expert forwards from the owners of the experts, as a
// turn does, and the owners keep nothing of them. In a session of more than one party,
// the party must have joined (Join, or a finished RunSession). Cancel from
// another goroutine or from onByte stops it before the next byte with
// StatusCancelled.
//
// onByte runs on this goroutine's thread and may call only Metrics and
// Cancel of this party. A panic in onByte stops the generation after that
// byte, and Generate returns a *CallbackPanicError.
func (p *Party) Generate(prompt []byte, maxBytes int, sampling *SamplingParams, onByte func(b byte) (stop bool)) (int, error) {
	var samplingC *C.pcmoe_sampling_params
	if sampling != nil {
		c := sampling.toC()
		samplingC = &c
	}
	var handle cgo.Handle
	callback := C.pcmoe_byte_fn(nil)
	if onByte != nil {
		handle = cgo.NewHandle(&byteCallback{fn: onByte, state: p.state})
		defer handle.Delete()
		callback = C.pcmoe_byte_fn(C.pcmoe_go_byte)
	}

	var produced C.size_t
	err := call("pcmoe_party_generate", func() C.pcmoe_status {
		return C.pcmoe_party_generate(p.ptr, bytesPointer(prompt), C.size_t(len(prompt)), C.size_t(maxBytes),
			samplingC, callback, C.pcmoe_go_context(C.uintptr_t(handle)), &produced)
	})
	runtime.KeepAlive(p)
	return int(produced), p.state.finish(err)
}

// GenerateBytes continues prompt as Generate does and returns the bytes it
// produced, up to maxBytes of them. After a failure it returns the bytes
// produced before it together with the error.
func (p *Party) GenerateBytes(prompt []byte, maxBytes int, sampling *SamplingParams) ([]byte, error) {
	var produced []byte
	_, err := p.Generate(prompt, maxBytes, sampling, func(b byte) bool {
		produced = append(produced, b)
		return false
	})
	return produced, err
}
