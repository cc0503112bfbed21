package pcmoe

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

const testParties = 3

// tinyParams returns the settings of party id of a three-party session with
// a tiny model and `rounds` rounds, with a fixed backbone seed so runs can be
// compared bit for bit.
func tinyParams(t *testing.T, id uint32, rounds uint64) PartyParams {
	t.Helper()
	params, err := DefaultPartyParams()
	if err != nil {
		t.Fatalf("DefaultPartyParams: %v", err)
	}
	params.PartyID = id
	params.PartyCount = testParties
	params.Session = 99
	params.DModel = 32
	params.NHeads = 2
	params.NLayers = 1
	params.NExperts = 6
	params.TopK = 2
	params.ExpertHidden = 32
	params.SeqLen = 16
	params.Batch = 4
	params.Steps = rounds * testParties
	params.LearningRate = 1e-2
	params.UseBackboneSeed = true
	params.BackboneSeed = 5
	params.CallTimeout = 30 * time.Second
	return params
}

// sampleText returns a learnable text of size bytes, one style per party.
func sampleText(style uint32, size int) []byte {
	phrases := []string{"the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "}
	phrase := phrases[style%uint32(len(phrases))]
	return bytes.Repeat([]byte(phrase), size/len(phrase)+1)[:size]
}

// tinyParty creates party id of a tiny session and loads its own text.
func tinyParty(t *testing.T, id uint32, rounds uint64) *Party {
	t.Helper()
	party, err := NewParty(tinyParams(t, id, rounds))
	if err != nil {
		t.Fatalf("NewParty(%d): %v", id, err)
	}
	if err := party.LoadData(sampleText(id, 3000)); err != nil {
		party.Close()
		t.Fatalf("LoadData(%d): %v", id, err)
	}
	return party
}

// tinyParties creates the three parties of a tiny session, closed when the test ends.
func tinyParties(t *testing.T, rounds uint64) []*Party {
	t.Helper()
	parties := make([]*Party, testParties)
	for i := range parties {
		parties[i] = tinyParty(t, uint32(i), rounds)
		party := parties[i]
		t.Cleanup(func() { party.Close() })
	}
	return parties
}

// hubSession attaches the parties to a new hub and joins them.
func hubSession(t *testing.T, parties []*Party) *Hub {
	t.Helper()
	hub, err := NewHub(uint32(len(parties)))
	if err != nil {
		t.Fatalf("NewHub: %v", err)
	}
	t.Cleanup(func() { hub.Close() })
	for i, party := range parties {
		if err := hub.Attach(party); err != nil {
			t.Fatalf("Attach(%d): %v", i, err)
		}
	}
	for i, party := range parties {
		if err := party.Join(); err != nil {
			t.Fatalf("Join(%d): %v", i, err)
		}
	}
	return hub
}

// trainRound takes one round robin round and returns the three losses.
func trainRound(t *testing.T, parties []*Party, round uint64) []float64 {
	t.Helper()
	losses := make([]float64, len(parties))
	for i, party := range parties {
		turn := round*uint64(len(parties)) + uint64(i) + 1
		result, err := party.TrainTurn(turn)
		if err != nil {
			t.Fatalf("TrainTurn(%d) of party %d: %v", turn, i, err)
		}
		losses[i] = result.Loss
	}
	return losses
}

// requireError checks that err is an *Error with the status and a message
// that contains text.
func requireError(t *testing.T, err error, status Status, text string) *Error {
	t.Helper()
	var libraryError *Error
	if !errors.As(err, &libraryError) {
		t.Fatalf("got error %v (%T), expected a *pcmoe.Error with status %q", err, err, status)
	}
	if libraryError.Status != status {
		t.Errorf("got status %q (%s), expected %q", libraryError.Status, libraryError.Message, status)
	}
	if libraryError.Message == "" || !strings.Contains(libraryError.Message, text) {
		t.Errorf("got message %q, expected one containing %q", libraryError.Message, text)
	}
	return libraryError
}
