package pcmoe

import (
	"math"
	"sync"
	"testing"
)

func TestHubTrainingLossFalls(t *testing.T) {
	const rounds = 12
	parties := tinyParties(t, rounds+1)
	hubSession(t, parties)

	var mutex sync.Mutex
	var reports []Progress
	err := parties[0].SetProgressCallback(func(progress Progress) {
		mutex.Lock()
		defer mutex.Unlock()
		reports = append(reports, progress)
	})
	if err != nil {
		t.Fatalf("SetProgressCallback: %v", err)
	}

	var first, last float64
	for round := uint64(0); round < rounds; round++ {
		losses := trainRound(t, parties, round)
		for i, loss := range losses {
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				t.Fatalf("party %d: loss %v in round %d", i, loss, round)
			}
		}
		mean := (losses[0] + losses[1] + losses[2]) / 3
		if round == 0 {
			first = mean
		}
		last = mean
	}
	t.Logf("mean loss of round 1 %.4f, of round %d %.4f", first, rounds, last)
	if !(last < 0.8*first) {
		t.Errorf("the loss fell from %.4f to %.4f only, expected below %.4f", first, last, 0.8*first)
	}

	mutex.Lock()
	turnReports := len(reports)
	mutex.Unlock()
	if turnReports != rounds {
		t.Errorf("party 0 reported %d turns, expected %d", turnReports, rounds)
	}

	checkResultAndMetrics(t, parties, rounds)
}

// checkResultAndMetrics takes one more turn of party 0, evaluates, and
// checks the counters after `rounds` rounds.
func checkResultAndMetrics(t *testing.T, parties []*Party, rounds uint64) {
	next := rounds*testParties + 1
	result, err := parties[0].TrainTurn(next)
	if err != nil {
		t.Fatalf("TrainTurn(%d): %v", next, err)
	}
	if result.Turn != next || result.GlobalStep != next || result.LearningRate <= 0 || result.GradientNorm <= 0 {
		t.Errorf("unexpected turn result %+v", result)
	}

	evaluation, err := parties[0].Evaluate(3)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if evaluation.Tokens != 3*16 || math.Abs(evaluation.BitsPerByte-evaluation.Loss/math.Ln2) > 1e-9 {
		t.Errorf("unexpected evaluation %+v", evaluation)
	}
	text := []byte("the cat sat on the mat. the cat sat on.")
	scored, err := parties[1].EvaluateBytes(text, 0)
	if err != nil {
		t.Fatalf("EvaluateBytes: %v", err)
	}
	if scored.Tokens != 32 || math.IsNaN(scored.Loss) {
		t.Errorf("unexpected evaluation of bytes %+v", scored)
	}
	_, err = parties[1].EvaluateBytes(text[:10], 0)
	requireError(t, err, StatusInvalidData, "")

	metrics, err := parties[0].Metrics()
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if metrics.Turns != rounds+1 || metrics.ExpertSteps != next {
		t.Errorf("turns %d and expert steps %d, expected %d and %d", metrics.Turns, metrics.ExpertSteps, rounds+1, next)
	}
	if metrics.BytesSent == 0 || metrics.BytesReceived == 0 || metrics.PeakTotalBytes == 0 ||
		metrics.MessagesSent == 0 || metrics.MessagesReceived == 0 {
		t.Errorf("unexpected metrics %+v", metrics)
	}
	if metrics.TrainBytes != 2700 || metrics.ValidationBytes != 300 {
		t.Errorf("train %d and validation %d bytes, expected 2700 and 300", metrics.TrainBytes, metrics.ValidationBytes)
	}
}

func TestCancelFromProgress(t *testing.T) {
	parties := tinyParties(t, 2)
	hubSession(t, parties)
	party := parties[2]
	err := party.SetProgressCallback(func(progress Progress) {
		if err := party.Cancel(); err != nil {
			t.Errorf("Cancel: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("SetProgressCallback: %v", err)
	}
	_, err = party.Evaluate(0)
	requireError(t, err, StatusCancelled, "stopped")

	if err := party.SetProgressCallback(nil); err != nil {
		t.Fatalf("SetProgressCallback(nil): %v", err)
	}
	if _, err := party.Evaluate(2); err != nil {
		t.Errorf("Evaluate without the callback: %v", err)
	}
}
