package pcmoe

import (
	"bytes"
	"testing"
)

var generatePrompt = []byte("the cat ")

// trainedParties returns three parties that joined over a hub and took two
// rounds of turns.
func trainedParties(t *testing.T) []*Party {
	t.Helper()
	parties := tinyParties(t, 4)
	hubSession(t, parties)
	for round := uint64(0); round < 2; round++ {
		trainRound(t, parties, round)
	}
	return parties
}

// samplingParams returns the defaults with temperature 1.2, top-k 50 and seed.
func samplingParams(t *testing.T, seed uint64) SamplingParams {
	t.Helper()
	sampling, err := DefaultSamplingParams()
	if err != nil {
		t.Fatalf("DefaultSamplingParams: %v", err)
	}
	sampling.Temperature = 1.2
	sampling.TopK = 50
	sampling.Seed = seed
	return sampling
}

// generate calls GenerateBytes and checks that it produced `count` bytes.
func generate(t *testing.T, party *Party, count int, sampling *SamplingParams) []byte {
	t.Helper()
	produced, err := party.GenerateBytes(generatePrompt, count, sampling)
	if err != nil {
		t.Fatalf("GenerateBytes: %v", err)
	}
	if len(produced) != count {
		t.Fatalf("GenerateBytes produced %d bytes, expected %d", len(produced), count)
	}
	return produced
}

func TestDefaultSamplingParams(t *testing.T) {
	sampling, err := DefaultSamplingParams()
	if err != nil {
		t.Fatalf("DefaultSamplingParams: %v", err)
	}
	if sampling.Temperature != 1 || sampling.TopK != 0 || sampling.TopP != 1 || sampling.Seed != 1 {
		t.Errorf("unexpected sampling defaults %+v", sampling)
	}
}

func TestGenerateOverHub(t *testing.T) {
	parties := trainedParties(t)

	t.Run("seed repeats", func(t *testing.T) { checkSeededGeneration(t, parties[1]) })
	t.Run("greedy", func(t *testing.T) { checkGreedyGeneration(t, parties[0]) })
	t.Run("stop after five", func(t *testing.T) { checkStopAfterFive(t, parties[1]) })
	t.Run("bad sampling", func(t *testing.T) { checkBadSampling(t, parties[2]) })
	t.Run("cancel from callback", func(t *testing.T) { checkCancelFromCallback(t, parties[2]) })
}

func checkSeededGeneration(t *testing.T, party *Party) {
	sampling := samplingParams(t, 42)
	first := generate(t, party, 24, &sampling)
	second := generate(t, party, 24, &sampling)
	if !bytes.Equal(first, second) {
		t.Errorf("seed 42 gave %q, then %q", first, second)
	}
	sampling.Seed = 43
	if other := generate(t, party, 24, &sampling); bytes.Equal(first, other) {
		t.Errorf("seeds 42 and 43 both gave %q", first)
	}

	defaults, err := DefaultSamplingParams()
	if err != nil {
		t.Fatalf("DefaultSamplingParams: %v", err)
	}
	explicit := generate(t, party, 16, &defaults)
	if implicit := generate(t, party, 16, nil); !bytes.Equal(explicit, implicit) {
		t.Errorf("the defaults gave %q, nil sampling gave %q", explicit, implicit)
	}
}

// checkGreedyGeneration checks that temperature 0 ignores the seed.
func checkGreedyGeneration(t *testing.T, party *Party) {
	sampling := samplingParams(t, 1)
	sampling.Temperature = 0
	first := generate(t, party, 10, &sampling)
	sampling.Seed = 2
	if second := generate(t, party, 10, &sampling); !bytes.Equal(first, second) {
		t.Errorf("greedy generation gave %q with seed 1 and %q with seed 2", first, second)
	}
}

func checkStopAfterFive(t *testing.T, party *Party) {
	sampling := samplingParams(t, 42)
	full := generate(t, party, 24, &sampling)
	var received []byte
	produced, err := party.Generate(generatePrompt, 24, &sampling, func(b byte) bool {
		received = append(received, b)
		return len(received) == 5
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if produced != 5 || len(received) != 5 {
		t.Fatalf("produced %d bytes and the callback received %d, expected 5", produced, len(received))
	}
	if !bytes.Equal(received, full[:5]) {
		t.Errorf("the stopped generation gave %q, expected %q", received, full[:5])
	}
}

func checkBadSampling(t *testing.T, party *Party) {
	sampling := samplingParams(t, 42)
	sampling.TopP = 0
	calls := 0
	produced, err := party.Generate(generatePrompt, 8, &sampling, func(byte) bool {
		calls++
		return false
	})
	libraryError := requireError(t, err, StatusInvalidArgument, "top-p is 0")
	if libraryError.Op != "pcmoe_party_generate" {
		t.Errorf("Op = %q", libraryError.Op)
	}
	if produced != 0 || calls != 0 {
		t.Errorf("produced %d bytes and called back %d times, expected none", produced, calls)
	}

	_, err = party.GenerateBytes(generatePrompt, 8, &SamplingParams{Temperature: 1, TopP: 1})
	requireError(t, err, StatusInvalidArgument, "pcmoe_sampling_default_params")
	_, err = party.GenerateBytes(nil, 8, nil)
	requireError(t, err, StatusInvalidArgument, "prompt is empty")
	_, err = party.GenerateBytes(generatePrompt, 2000000, nil)
	requireError(t, err, StatusInvalidArgument, "max_bytes")
	_, err = party.Generate(generatePrompt, 8, nil, nil)
	requireError(t, err, StatusInvalidArgument, "callback is NULL")
}

func checkCancelFromCallback(t *testing.T, party *Party) {
	count := 0
	produced, err := party.Generate(generatePrompt, 24, nil, func(byte) bool {
		count++
		if count == 3 {
			if err := party.Cancel(); err != nil {
				t.Errorf("Cancel: %v", err)
			}
		}
		return false
	})
	requireError(t, err, StatusCancelled, "")
	if produced != 3 || count != 3 {
		t.Errorf("produced %d bytes and called back %d times, expected 3", produced, count)
	}
	if _, err := party.GenerateBytes(generatePrompt, 4, nil); err != nil {
		t.Errorf("GenerateBytes after the cancel: %v", err)
	}
}

func TestGenerateBeforeJoin(t *testing.T) {
	party := tinyParty(t, 1, 2)
	defer party.Close()
	_, err := party.GenerateBytes(generatePrompt, 4, nil)
	requireError(t, err, StatusInvalidArgument, "party 1 has not joined")
}

// TestGenerateCountsMessages checks the message counters after training,
// and that generation sends requests for expert forwards to the owners.
func TestGenerateCountsMessages(t *testing.T) {
	parties := trainedParties(t)
	before := make([]Metrics, len(parties))
	for i, party := range parties {
		metrics, err := party.Metrics()
		if err != nil {
			t.Fatalf("Metrics(%d): %v", i, err)
		}
		if metrics.MessagesSent == 0 || metrics.MessagesReceived == 0 {
			t.Errorf("party %d sent %d and received %d messages in two rounds", i, metrics.MessagesSent,
				metrics.MessagesReceived)
		}
		before[i] = metrics
	}

	generate(t, parties[1], 8, nil)
	after, err := parties[1].Metrics()
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if after.MessagesSent <= before[1].MessagesSent || after.MessagesReceived <= before[1].MessagesReceived {
		t.Errorf("generation left party 1 at %d sent and %d received messages, %d and %d before",
			after.MessagesSent, after.MessagesReceived, before[1].MessagesSent, before[1].MessagesReceived)
	}
	if after.Turns != before[1].Turns || after.ExpertSteps != before[1].ExpertSteps {
		t.Errorf("generation changed the turns from %d to %d and the expert steps from %d to %d",
			before[1].Turns, after.Turns, before[1].ExpertSteps, after.ExpertSteps)
	}
}
