package pcmoe

/*
#include <pcmoe.h>
#include <stdlib.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// AllowExport sets the parties this party sends its experts to when they
// call ExportModel, replacing the earlier list. A party starts with an
// empty list, which rejects every export request, and AllowExport() with no
// ids restores that. A party on the list receives this party's experts, which
// were trained on every party's data, and may keep and use them with no
// peer. An id outside 0 to PartyCount-1 fails with StatusInvalidArgument
// and leaves the list as it was. Safe from any goroutine, and it takes
// effect for the next request.
func (p *Party) AllowExport(partyIDs ...uint32) error {
	var ids *C.uint32_t
	if len(partyIDs) > 0 {
		ids = (*C.uint32_t)(unsafe.Pointer(&partyIDs[0]))
	}
	err := call("pcmoe_party_allow_export", func() C.pcmoe_status {
		return C.pcmoe_party_allow_export(p.ptr, ids, C.size_t(len(partyIDs)))
	})
	runtime.KeepAlive(p)
	return err
}

// ExportModel requests the experts of every other party and writes the whole
// model to path as a one-process checkpoint: this party's backbone, its own
// experts and everyone else's, weights only. The pcmoe command reads it with
// no peer (eval --checkpoint, score --model, generate --model). The file is
// written atomically with mode 0600 and contains this party's backbone, so
// keep it as private as the party's checkpoints.
//
// The party must have joined, and every owner's experts must have taken the
// same steps as this party's. When an owner rejects the request (its
// AllowExport list does not contain this party), does not reply or is at
// another step, ExportModel fails with StatusPeer, the message names every
// such owner, and nothing is written.
func (p *Party) ExportModel(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	err := call("pcmoe_party_export_model", func() C.pcmoe_status {
		return C.pcmoe_party_export_model(p.ptr, cpath)
	})
	runtime.KeepAlive(p)
	return p.state.finish(err)
}
