package pcmoe

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestSaveAndLoad(t *testing.T) {
	parties := tinyParties(t, 4)
	hubSession(t, parties)
	trainRound(t, parties, 0)
	trainRound(t, parties, 1)

	folder := t.TempDir()
	paths := make([]string, len(parties))
	for i, party := range parties {
		paths[i] = filepath.Join(folder, fmt.Sprintf("party-%d.safetensors", i))
		if err := party.Save(paths[i]); err != nil {
			t.Fatalf("Save(%d): %v", i, err)
		}
	}
	saved := evaluate(t, parties[0])
	first := trainRound(t, parties, 2)
	if evaluate(t, parties[0]) == saved {
		t.Fatalf("a round of training left the validation loss at %v", saved)
	}

	// Loading every checkpoint restores the session: the same validation
	// loss and, after a join, the same losses of the next round.
	for i, party := range parties {
		if err := party.Load(paths[i]); err != nil {
			t.Fatalf("Load(%d): %v", i, err)
		}
	}
	_, err := parties[0].TrainTurn(7)
	requireError(t, err, StatusInvalidArgument, "has not joined")
	for i, party := range parties {
		if err := party.Join(); err != nil {
			t.Fatalf("Join(%d): %v", i, err)
		}
	}
	if got := evaluate(t, parties[0]); got != saved {
		t.Errorf("validation loss %v after Load, expected %v", got, saved)
	}
	again := trainRound(t, parties, 2)
	for i := range first {
		if again[i] != first[i] {
			t.Errorf("party %d: loss %v after Load, expected %v", i, again[i], first[i])
		}
	}

	requireError(t, parties[1].Load(paths[0]), StatusInvalidCheckpoint, "party_id")
	requireError(t, parties[0].Load(filepath.Join(folder, "absent.safetensors")), StatusIO, "")
	requireError(t, parties[0].Save(filepath.Join(folder, "no", "such", "x.safetensors")), StatusIO, "")
}

func evaluate(t *testing.T, party *Party) float64 {
	t.Helper()
	evaluation, err := party.Evaluate(4)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return evaluation.Loss
}
