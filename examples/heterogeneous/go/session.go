package main

import (
	"fmt"
	"sync"

	pcmoe "github.com/pcmoe/pcmoe/bindings/go"
)

// turnLosses records the losses of this party's TURN events. SAVED events
// may come on another thread, so the record is guarded.
type turnLosses struct {
	mutex       sync.Mutex
	first, last float64
	turns       int
}

// printer returns the session callback, which prints JOINED, TURN and FAULT
// events and records the turn losses. os.Stdout is unbuffered, so every
// line leaves at once.
func (l *turnLosses) printer(id string) func(pcmoe.SessionEvent) {
	return func(event pcmoe.SessionEvent) {
		switch event.Kind {
		case pcmoe.SessionJoined:
			resumed := 0
			if event.Resumed {
				resumed = 1
			}
			fmt.Printf("party %s (%s): joined turn=%d resumed=%d\n", id, runtimeName, event.Turn, resumed)
		case pcmoe.SessionTurn:
			l.mutex.Lock()
			if l.turns == 0 {
				l.first = event.Loss
			}
			l.last = event.Loss
			l.turns++
			l.mutex.Unlock()
			fmt.Printf("party %s (%s): turn %d loss %.6f\n", id, runtimeName, event.Turn, event.Loss)
		case pcmoe.SessionFault:
			fmt.Printf("party %s (%s): fault %s\n", id, runtimeName, event.Message)
		}
	}
}

// run trains this party through the session and prints the result line.
// Every handle is closed before it returns, on success and on error.
func run(args arguments) error {
	params, err := partyParams(args)
	if err != nil {
		return err
	}
	party, err := pcmoe.NewParty(params)
	if err != nil {
		return err
	}
	defer party.Close()
	if err := party.LoadDataFile(args.dataFile); err != nil {
		return err
	}
	network, err := pcmoe.NewNetwork(party, args.deployment, args.keyFile, 0)
	if err != nil {
		return err
	}
	// Deferred calls run last first: the network closes before the party.
	defer network.Close()

	session, err := sessionParams(args)
	if err != nil {
		return err
	}
	var losses turnLosses
	evaluation, err := party.RunSession(session, losses.printer(args.id))
	if err != nil {
		return err
	}
	return printResult(args, party, network, evaluation, &losses)
}

func printResult(args arguments, party *pcmoe.Party, network *pcmoe.Network, evaluation pcmoe.Evaluation,
	losses *turnLosses) error {
	metrics, err := party.Metrics()
	if err != nil {
		return err
	}
	counters, err := network.Stats()
	if err != nil {
		return err
	}
	losses.mutex.Lock()
	defer losses.mutex.Unlock()
	// The byte and message counts come from pcmoe_party_metrics, read after
	// the session; the network's own two counters follow as extra keys.
	fmt.Printf("party %s (%s): result runtime=%s version=%s val_loss=%.6f bits_per_byte=%.6f "+
		"first_loss=%.6f last_loss=%.6f turns=%d sent_bytes=%d received_bytes=%d "+
		"messages_sent=%d messages_received=%d rejected_connections=%d dropped_messages=%d\n",
		args.id, runtimeName, runtimeName, pcmoe.Version(), evaluation.Loss, evaluation.BitsPerByte,
		losses.first, losses.last, losses.turns, metrics.BytesSent, metrics.BytesReceived,
		metrics.MessagesSent, metrics.MessagesReceived, counters.RejectedConnections, counters.DroppedMessages)
	return nil
}
