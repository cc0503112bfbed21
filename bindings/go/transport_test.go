package pcmoe

import (
	"errors"
	"sync"
	"testing"
)

// queueTransport carries the messages of parties in one process through Go
// channels: each party has an inbox and a goroutine that hands the queued
// bytes to its HandleMessage and queues the reply for its destination.
type queueTransport struct {
	parties   []*Party
	inboxes   []chan []byte
	waitGroup sync.WaitGroup

	mutex     sync.Mutex
	delivered int
	failures  []error
}

var errInboxFull = errors.New("the inbox is full")

func newQueueTransport(parties []*Party) *queueTransport {
	q := &queueTransport{parties: parties, inboxes: make([]chan []byte, len(parties))}
	for i := range parties {
		q.inboxes[i] = make(chan []byte, 4096)
		q.waitGroup.Add(1)
		go q.deliver(i)
	}
	return q
}

// send queues a message without blocking, as the library requires.
func (q *queueTransport) send(destination uint32, message []byte) error {
	if int(destination) >= len(q.inboxes) {
		return errors.New("no such party")
	}
	select {
	case q.inboxes[destination] <- message:
		return nil
	default:
		return errInboxFull
	}
}

func (q *queueTransport) deliver(id int) {
	defer q.waitGroup.Done()
	for message := range q.inboxes[id] {
		reply, err := q.parties[id].HandleMessage(message)
		q.mutex.Lock()
		q.delivered++
		if err != nil {
			q.failures = append(q.failures, err)
		}
		q.mutex.Unlock()
		if len(reply.Bytes) > 0 && reply.Destination >= 0 {
			if err := q.send(uint32(reply.Destination), reply.Bytes); err != nil {
				q.mutex.Lock()
				q.failures = append(q.failures, err)
				q.mutex.Unlock()
			}
		}
	}
}

// stop ends the delivery goroutines; no send may follow.
func (q *queueTransport) stop() {
	for _, inbox := range q.inboxes {
		close(inbox)
	}
	q.waitGroup.Wait()
}

func TestHostTransportMatchesHub(t *testing.T) {
	const rounds = 2
	hubParties := tinyParties(t, rounds)
	hubSession(t, hubParties)
	var hubLosses []float64
	for round := uint64(0); round < rounds; round++ {
		hubLosses = append(hubLosses, trainRound(t, hubParties, round)...)
	}

	parties := tinyParties(t, rounds)
	transport := newQueueTransport(parties)
	t.Cleanup(transport.stop)
	for i, party := range parties {
		if err := party.SetTransport(transport.send); err != nil {
			t.Fatalf("SetTransport(%d): %v", i, err)
		}
	}
	for i, party := range parties {
		if err := party.Join(); err != nil {
			t.Fatalf("Join(%d): %v", i, err)
		}
	}
	var losses []float64
	for round := uint64(0); round < rounds; round++ {
		losses = append(losses, trainRound(t, parties, round)...)
	}
	for i := range losses {
		if losses[i] != hubLosses[i] {
			t.Errorf("turn %d: loss %v over the Go transport, %v over the hub", i+1, losses[i], hubLosses[i])
		}
	}

	transport.mutex.Lock()
	defer transport.mutex.Unlock()
	if transport.delivered == 0 {
		t.Errorf("the Go transport delivered no message")
	}
	if len(transport.failures) > 0 {
		t.Errorf("the Go transport failed %d times, first: %v", len(transport.failures), transport.failures[0])
	}
}

func TestSetTransportRejected(t *testing.T) {
	party := tinyParty(t, 0, 2)
	defer party.Close()
	requireError(t, party.SetTransport(nil), StatusInvalidArgument, "")
	hub, err := NewHub(2)
	if err != nil {
		t.Fatalf("NewHub: %v", err)
	}
	defer hub.Close()
	requireError(t, hub.Attach(party), StatusInvalidArgument, "3 parties")
}
