package pcmoe

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadConfigFile(t *testing.T) {
	folder := t.TempDir()
	missing := filepath.Join(folder, "none.json")
	_, err := NewPartyFromConfig(missing)
	requireError(t, err, StatusInvalidConfig, "none.json")

	cases := []struct{ text, message string }{
		{"{not json", "not valid JSON"},
		{`{"party": {"id": 0, "party_count": 3, "session": 5, "colour": 1}}`, "colour"},
		{`{"party": {"id": 0, "party_count": 3, "session": 5}, "model": {"top_k": 9}}`, "top_k"},
	}
	path := filepath.Join(folder, "party.json")
	for _, c := range cases {
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		party, err := NewPartyFromConfig(path)
		if party != nil {
			t.Errorf("config %q returned a party", c.text)
		}
		libraryError := requireError(t, err, StatusInvalidConfig, c.message)
		if libraryError.Op != "pcmoe_party_create_from_config" {
			t.Errorf("Op = %q", libraryError.Op)
		}
	}
}

func TestConfigFileWithData(t *testing.T) {
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, "corpus.txt"), sampleText(1, 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	config := `{"party": {"id": 1, "party_count": 3, "session": 5},
		"model": {"d_model": 16, "n_heads": 2, "n_layers": 1, "n_experts": 6, "expert_hidden": 32, "seq_len": 16},
		"data": ["corpus.txt"]}`
	path := filepath.Join(folder, "party.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	party, err := NewPartyFromConfig(path)
	if err != nil {
		t.Fatalf("NewPartyFromConfig: %v", err)
	}
	defer party.Close()
	metrics, err := party.Metrics()
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if metrics.PartyID != 1 || metrics.PartyCount != 3 {
		t.Errorf("party %d of %d, expected 1 of 3", metrics.PartyID, metrics.PartyCount)
	}
	if metrics.TrainBytes+metrics.ValidationBytes != 2000 {
		t.Errorf("train %d + validation %d bytes, expected 2000", metrics.TrainBytes, metrics.ValidationBytes)
	}
	if !math.IsNaN(metrics.LastLoss) {
		t.Errorf("LastLoss = %v before any turn, expected NaN", metrics.LastLoss)
	}
}

func TestDefaultParams(t *testing.T) {
	params, err := DefaultPartyParams()
	if err != nil {
		t.Fatalf("DefaultPartyParams: %v", err)
	}
	if params.DModel != 256 || params.NExperts != 8 || params.Batch != 16 || params.PartyCount != 1 {
		t.Errorf("unexpected defaults %+v", params)
	}
	if params.CallTimeout.Seconds() != 120 || params.CallRetries != 2 || params.UseBackboneSeed {
		t.Errorf("unexpected defaults %+v", params)
	}
	if params.RowClipNorm != 0 || params.RowNoiseSigma != 0 || params.OwnExpertLayers != 0 {
		t.Errorf("unexpected privacy defaults %+v", params)
	}
	session, err := DefaultSessionParams()
	if err != nil {
		t.Fatalf("DefaultSessionParams: %v", err)
	}
	if session.CheckpointEvery != 1 || session.JoinTimeout.Seconds() != 600 || session.MaxRejoins != 20 {
		t.Errorf("unexpected session defaults %+v", session)
	}
}

func TestBadParams(t *testing.T) {
	cases := []struct {
		change  func(*PartyParams)
		message string
	}{
		{func(p *PartyParams) { p.PartyCount = 0 }, "party count is 0"},
		{func(p *PartyParams) { p.PartyID = 3 }, "party id is 3"},
		{func(p *PartyParams) { p.Session = 0 }, "session id is 0"},
		{func(p *PartyParams) { p.NHeads = 3 }, "n_heads"},
		{func(p *PartyParams) { p.WireType = 7 }, "wire_type"},
		{func(p *PartyParams) { p.CallRetries = 101 }, "call retries are 101"},
		{func(p *PartyParams) { p.RowNoiseSigma = 0.5 }, "row_noise_sigma is 0.5 but row_clip_norm is 0"},
		{func(p *PartyParams) { p.RowClipNorm = -1 }, "row_clip_norm is -1"},
		{func(p *PartyParams) { p.OwnExpertLayers = 2 }, "own_expert_layers is 2"},
	}
	for _, c := range cases {
		params := tinyParams(t, 0, 2)
		c.change(&params)
		party, err := NewParty(params)
		if party != nil {
			t.Errorf("%q: NewParty returned a party", c.message)
		}
		requireError(t, err, StatusInvalidArgument, c.message)
	}

	// Params not made by DefaultPartyParams carry no struct size.
	_, err := NewParty(PartyParams{PartyCount: 1, Session: 1})
	requireError(t, err, StatusInvalidArgument, "pcmoe_party_default_params")
}

func TestPrivacyParamsCreateParty(t *testing.T) {
	params := tinyParams(t, 0, 2)
	params.RowClipNorm, params.RowNoiseSigma, params.OwnExpertLayers = 4, 0.5, 1
	party, err := NewParty(params)
	if err != nil {
		t.Fatalf("NewParty with row noise and one own-expert layer: %v", err)
	}
	party.Close()
}

func TestDataErrors(t *testing.T) {
	party, err := NewParty(tinyParams(t, 0, 2))
	if err != nil {
		t.Fatalf("NewParty: %v", err)
	}
	defer party.Close()
	requireError(t, party.LoadData([]byte{1, 2, 3}), StatusInvalidData, "too short")
	requireError(t, party.LoadData(nil), StatusInvalidData, "")
	absent := filepath.Join(t.TempDir(), "absent.txt")
	requireError(t, party.LoadDataFile(absent), StatusInvalidData, "absent.txt")
	_, err = party.TrainTurn(1)
	requireError(t, err, StatusInvalidArgument, "no training data")
	requireError(t, party.Join(), StatusInvalidArgument, "no transport")
	_, err = party.HandleMessage([]byte("not an envelope"))
	libraryError := requireError(t, err, StatusBadMessage, "")
	if strings.TrimSpace(libraryError.Message) == "" {
		t.Errorf("a rejected message has no text")
	}
	_, err = NewHub(0)
	requireError(t, err, StatusInvalidArgument, "")
}
