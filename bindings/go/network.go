package pcmoe

/*
#include <pcmoe.h>
#include <stdlib.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// NetworkFlags are the flags of NewNetwork, a pcmoe_network_flags.
type NetworkFlags uint32

// NetworkInsecurePlainTCP turns CURVE off: the traffic is neither encrypted
// nor authenticated, so anyone who reaches a party's port can read every row
// it exchanges and pose as any party. Only for debugging on a trusted host.
const NetworkInsecurePlainTCP NetworkFlags = C.PCMOE_NETWORK_INSECURE_PLAIN_TCP

// Network is one party's ZeroMQ transport over TCP with CURVE, a
// pcmoe_network. It refers to its party without keeping it alive, so
// either may be closed first. A party whose network is closed is left
// without a transport.
type Network struct {
	ptr   *C.pcmoe_network
	mutex sync.Mutex
}

// NewNetwork makes party exchange its messages with the other parties of
// the deployment file over ZeroMQ, replacing any transport it had. keyPath
// names the party's key pair file (`pcmoe keygen`), which only its owner
// may read. flags is 0 or NetworkInsecurePlainTCP. A port in use fails with
// StatusIO. Not during a join, turn or evaluation of the party, nor during
// its session except while that session waits to join.
func NewNetwork(party *Party, deploymentPath, keyPath string, flags NetworkFlags) (*Network, error) {
	deployment := C.CString(deploymentPath)
	defer C.free(unsafe.Pointer(deployment))
	key := C.CString(keyPath)
	defer C.free(unsafe.Pointer(key))
	var ptr *C.pcmoe_network
	err := call("pcmoe_network_create", func() C.pcmoe_status {
		return C.pcmoe_network_create(party.ptr, deployment, key, C.uint32_t(flags), &ptr)
	})
	runtime.KeepAlive(party)
	if err != nil {
		return nil, err
	}
	n := &Network{ptr: ptr}
	// A safety net for a Network dropped without Close.
	runtime.SetFinalizer(n, (*Network).Close)
	return n, nil
}

// NetworkCounters is a snapshot of a network's counters, a
// pcmoe_network_counters. Bytes sent and received are in Party.Metrics.
type NetworkCounters struct {
	// RejectedConnections counts connections whose public key is not in the
	// deployment; always 0 with NetworkInsecurePlainTCP.
	RejectedConnections uint64
	// DroppedMessages counts requests whose destination had no connection
	// for one second, and replies whose connection had closed.
	DroppedMessages uint64
}

// Stats returns the network's counters. Safe from any goroutine.
func (n *Network) Stats() (NetworkCounters, error) {
	var c C.pcmoe_network_counters
	err := call("pcmoe_network_stats", func() C.pcmoe_status {
		return C.pcmoe_network_stats(n.ptr, &c, C.sizeof_pcmoe_network_counters)
	})
	runtime.KeepAlive(n)
	if err != nil {
		return NetworkCounters{}, err
	}
	return NetworkCounters{
		RejectedConnections: uint64(c.rejected_connections),
		DroppedMessages:     uint64(c.dropped_messages),
	}, nil
}

// Close stops the network: its threads end and its sockets close. A session
// of the party running on another goroutine then fails once its current wait
// ends. Safe to call more than once; returns nil.
func (n *Network) Close() error {
	n.mutex.Lock()
	defer n.mutex.Unlock()
	if n.ptr != nil {
		C.pcmoe_network_destroy(n.ptr)
		n.ptr = nil
		runtime.SetFinalizer(n, nil)
	}
	return nil
}
