package pcmoe

import (
	"testing"
)

func TestCloseTwice(t *testing.T) {
	params := tinyParams(t, 0, 1)
	params.PartyCount = 1
	party, err := NewParty(params)
	if err != nil {
		t.Fatalf("NewParty: %v", err)
	}
	hub, err := NewHub(1)
	if err != nil {
		t.Fatalf("NewHub: %v", err)
	}
	if err := hub.Attach(party); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	deployment := newTestDeployment(t, 1, 99)
	network, err := NewNetwork(party, deployment.path, deployment.keyPaths[0], 0)
	if err != nil {
		t.Fatalf("NewNetwork: %v", err)
	}
	if _, err := network.Stats(); err != nil {
		t.Errorf("Stats: %v", err)
	}

	for i := 0; i < 2; i++ {
		if err := network.Close(); err != nil {
			t.Errorf("Network.Close %d: %v", i+1, err)
		}
		if err := hub.Close(); err != nil {
			t.Errorf("Hub.Close %d: %v", i+1, err)
		}
		if err := party.Close(); err != nil {
			t.Errorf("Party.Close %d: %v", i+1, err)
		}
	}

	// A closed handle reaches the library as NULL, which rejects it.
	_, err = party.Metrics()
	requireError(t, err, StatusInvalidArgument, "party is NULL")
	requireError(t, party.LoadData(sampleText(0, 3000)), StatusInvalidArgument, "party is NULL")
	requireError(t, party.SetProgressCallback(func(Progress) {}), StatusInvalidArgument, "party is NULL")
	_, err = network.Stats()
	requireError(t, err, StatusInvalidArgument, "network is NULL")
	requireError(t, hub.Attach(party), StatusInvalidArgument, "hub is NULL")
}

func TestNetworkRejectsForeignKey(t *testing.T) {
	params := tinyParams(t, 0, 1)
	params.PartyCount = 1
	party, err := NewParty(params)
	if err != nil {
		t.Fatalf("NewParty: %v", err)
	}
	defer party.Close()
	deployment := newTestDeployment(t, 1, 99)
	other := newTestDeployment(t, 1, 99)
	_, err = NewNetwork(party, deployment.path, other.keyPaths[0], 0)
	requireError(t, err, StatusInvalidConfig, "")
	_, err = NewNetwork(party, deployment.path, deployment.keyPaths[0], 8)
	requireError(t, err, StatusInvalidArgument, "")
}
