package pcmoe_test

import (
	"bytes"
	"fmt"
	"log"

	pcmoe "github.com/pcmoe/pcmoe/bindings/go"
)

// Three parties of one process train one model over a hub, taking their
// turns round robin, and party 0 scores its held-out text.
func Example() {
	const parties, rounds = 3, 8
	hub, err := pcmoe.NewHub(parties)
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()

	texts := []string{"the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "}
	var team []*pcmoe.Party
	for id := uint32(0); id < parties; id++ {
		params, err := pcmoe.DefaultPartyParams()
		if err != nil {
			log.Fatal(err)
		}
		params.PartyID, params.PartyCount, params.Session = id, parties, 42
		params.DModel, params.NHeads, params.NLayers = 32, 2, 1
		params.NExperts, params.ExpertHidden, params.SeqLen = 6, 32, 16
		params.Steps, params.Batch, params.LearningRate = rounds*parties, 4, 1e-2
		params.UseBackboneSeed, params.BackboneSeed = true, 1000+uint64(id)

		party, err := pcmoe.NewParty(params)
		if err != nil {
			log.Fatal(err)
		}
		defer party.Close()
		if err := party.LoadData(bytes.Repeat([]byte(texts[id]), 150)); err != nil {
			log.Fatal(err)
		}
		if err := hub.Attach(party); err != nil {
			log.Fatal(err)
		}
		team = append(team, party)
	}
	for _, party := range team {
		if err := party.Join(); err != nil {
			log.Fatal(err)
		}
	}

	var first, last float64
	for round := uint64(0); round < rounds; round++ {
		for id, party := range team {
			result, err := party.TrainTurn(round*parties + uint64(id) + 1)
			if err != nil {
				log.Fatal(err)
			}
			if id == 0 && round == 0 {
				first = result.Loss
			}
			if id == 0 {
				last = result.Loss
			}
		}
	}
	evaluation, err := team[0].Evaluate(8)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("turns:", rounds*parties)
	fmt.Println("party 0's loss fell:", last < first)
	fmt.Println("bytes scored:", evaluation.Tokens)
	// Output:
	// turns: 24
	// party 0's loss fell: true
	// bytes scored: 128
}
