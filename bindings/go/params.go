package pcmoe

/*
#include <pcmoe.h>
*/
import "C"

import (
	"time"
)

// WireType is a pcmoe_wire_type: the element type of the tensors a party sends.
type WireType int32

// The wire types of the C header.
const (
	WireF32  WireType = C.PCMOE_WIRE_F32
	WireBF16 WireType = C.PCMOE_WIRE_BF16
	WireF16  WireType = C.PCMOE_WIRE_F16
)

// PartyParams are the settings of NewParty, a pcmoe_party_params. Get them
// from DefaultPartyParams, then change fields; the C header documents each
// field, its range and which fields all parties of a session must share.
// A PartyParams not made by DefaultPartyParams is rejected by the library.
type PartyParams struct {
	PartyID    uint32
	PartyCount uint32
	Session    uint64

	DModel       uint32
	NHeads       uint32
	NLayers      uint32
	NExperts     uint32
	TopK         uint32
	ExpertHidden uint32
	SeqLen       uint32

	// Steps counts the turns of all parties together.
	Steps          uint64
	Batch          uint32
	LearningRate   float64
	WarmupFraction float64
	MinLRRatio     float64
	WeightDecay    float64
	ClipNorm       float64
	Seed           uint64
	WireType       WireType

	// CallTimeout is the wait for a peer's reply to each attempt of a
	// request; the library takes it in seconds.
	CallTimeout time.Duration
	// With UseBackboneSeed, the backbone starts from BackboneSeed; without
	// it, from a seed drawn from the system's random generator.
	UseBackboneSeed bool
	BackboneSeed    uint64
	CallRetries     uint32

	// Row noise: each row sent to another expert owner is clipped to the
	// L2 norm RowClipNorm, then gets Gaussian noise of standard deviation
	// RowNoiseSigma per value. Both 0 (the default) send rows exact, and a
	// RowNoiseSigma above 0 needs a RowClipNorm above 0.
	RowClipNorm   float64
	RowNoiseSigma float64
	// In its first OwnExpertLayers layers, the party routes only to the
	// experts it owns, so those rows never leave it. Default 0.
	OwnExpertLayers uint32

	// structSize is the struct_size that pcmoe_party_default_params set.
	structSize C.size_t
}

func seconds(d time.Duration) C.double {
	return C.double(d.Seconds())
}

func duration(seconds C.double) time.Duration {
	return time.Duration(float64(seconds) * float64(time.Second))
}

func boolInt(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

// DefaultPartyParams returns the library's default party settings.
func DefaultPartyParams() (PartyParams, error) {
	var c C.pcmoe_party_params
	err := call("pcmoe_party_default_params", func() C.pcmoe_status {
		return C.pcmoe_party_default_params(&c, C.sizeof_pcmoe_party_params)
	})
	if err != nil {
		return PartyParams{}, err
	}
	return PartyParams{
		PartyID:         uint32(c.party_id),
		PartyCount:      uint32(c.party_count),
		Session:         uint64(c.session),
		DModel:          uint32(c.d_model),
		NHeads:          uint32(c.n_heads),
		NLayers:         uint32(c.n_layers),
		NExperts:        uint32(c.n_experts),
		TopK:            uint32(c.top_k),
		ExpertHidden:    uint32(c.expert_hidden),
		SeqLen:          uint32(c.seq_len),
		Steps:           uint64(c.steps),
		Batch:           uint32(c.batch),
		LearningRate:    float64(c.learning_rate),
		WarmupFraction:  float64(c.warmup_fraction),
		MinLRRatio:      float64(c.min_lr_ratio),
		WeightDecay:     float64(c.weight_decay),
		ClipNorm:        float64(c.clip_norm),
		Seed:            uint64(c.seed),
		WireType:        WireType(c.wire_type),
		CallTimeout:     duration(c.call_timeout_seconds),
		UseBackboneSeed: c.use_backbone_seed != 0,
		BackboneSeed:    uint64(c.backbone_seed),
		CallRetries:     uint32(c.call_retries),
		RowClipNorm:     float64(c.row_clip_norm),
		RowNoiseSigma:   float64(c.row_noise_sigma),
		OwnExpertLayers: uint32(c.own_expert_layers),
		structSize:      c.struct_size,
	}, nil
}

func (p *PartyParams) toC() C.pcmoe_party_params {
	return C.pcmoe_party_params{
		struct_size:          p.structSize,
		party_id:             C.uint32_t(p.PartyID),
		party_count:          C.uint32_t(p.PartyCount),
		session:              C.uint64_t(p.Session),
		d_model:              C.uint32_t(p.DModel),
		n_heads:              C.uint32_t(p.NHeads),
		n_layers:             C.uint32_t(p.NLayers),
		n_experts:            C.uint32_t(p.NExperts),
		top_k:                C.uint32_t(p.TopK),
		expert_hidden:        C.uint32_t(p.ExpertHidden),
		seq_len:              C.uint32_t(p.SeqLen),
		steps:                C.uint64_t(p.Steps),
		batch:                C.uint32_t(p.Batch),
		learning_rate:        C.double(p.LearningRate),
		warmup_fraction:      C.double(p.WarmupFraction),
		min_lr_ratio:         C.double(p.MinLRRatio),
		weight_decay:         C.double(p.WeightDecay),
		clip_norm:            C.double(p.ClipNorm),
		seed:                 C.uint64_t(p.Seed),
		wire_type:            C.int32_t(p.WireType),
		call_timeout_seconds: seconds(p.CallTimeout),
		use_backbone_seed:    boolInt(p.UseBackboneSeed),
		backbone_seed:        C.uint64_t(p.BackboneSeed),
		call_retries:         C.uint32_t(p.CallRetries),
		row_clip_norm:        C.double(p.RowClipNorm),
		row_noise_sigma:      C.double(p.RowNoiseSigma),
		own_expert_layers:    C.uint32_t(p.OwnExpertLayers),
	}
}

// SessionParams are the settings of Party.RunSession, a
// pcmoe_session_params. Get them from DefaultSessionParams, then change
// fields; CheckpointFolder is required.
type SessionParams struct {
	// CheckpointFolder is this party's own folder of session checkpoints,
	// created with mode 0700 when missing. Checkpoints found there make the
	// party resume from them.
	CheckpointFolder string
	// CheckpointEvery counts the rounds (one turn of every party) between
	// checkpoints; the last turn is always followed by one.
	CheckpointEvery uint32
	// JoinTimeout is the wait for every party to join or to join again
	// after a fault; WaitTimeout the wait for another party's turn or for
	// the others to finish. The library takes both in seconds.
	JoinTimeout time.Duration
	WaitTimeout time.Duration
	// MaxRejoins counts the joins after a fault before the call fails.
	MaxRejoins uint32
	// EvaluationWindows caps the windows of the final evaluation; 0 scores
	// every window of the held-out text.
	EvaluationWindows uint64

	structSize C.size_t
}

// DefaultSessionParams returns the library's default session settings,
// with no checkpoint folder.
func DefaultSessionParams() (SessionParams, error) {
	var c C.pcmoe_session_params
	err := call("pcmoe_session_default_params", func() C.pcmoe_status {
		return C.pcmoe_session_default_params(&c, C.sizeof_pcmoe_session_params)
	})
	if err != nil {
		return SessionParams{}, err
	}
	return SessionParams{
		CheckpointEvery:   uint32(c.checkpoint_every),
		JoinTimeout:       duration(c.join_timeout_seconds),
		WaitTimeout:       duration(c.wait_timeout_seconds),
		MaxRejoins:        uint32(c.max_rejoins),
		EvaluationWindows: uint64(c.evaluation_windows),
		structSize:        c.struct_size,
	}, nil
}

// toC converts the params; checkpointFolder is a C string the caller frees
// after the call.
func (p *SessionParams) toC(checkpointFolder *C.char) C.pcmoe_session_params {
	return C.pcmoe_session_params{
		struct_size:          p.structSize,
		checkpoint_folder:    checkpointFolder,
		checkpoint_every:     C.uint32_t(p.CheckpointEvery),
		join_timeout_seconds: seconds(p.JoinTimeout),
		wait_timeout_seconds: seconds(p.WaitTimeout),
		max_rejoins:          C.uint32_t(p.MaxRejoins),
		evaluation_windows:   C.uint64_t(p.EvaluationWindows),
	}
}
