// Command host-go runs one party of a three-party pcmoe session over ZeroMQ
// with CURVE, through the Go binding. Its arguments and output lines are the
// same as those of the C++ and Rust hosts, so one script can drive all three:
//
//	host-go DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID
//
// It prints a line on stdout for each JOINED, TURN and FAULT event and a
// result line at the end, and exits 0. On an error it prints
// "party ID (go): error STATUS: MESSAGE" on stderr and exits 1.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	pcmoe "github.com/pcmoe/pcmoe/bindings/go"
)

const runtimeName = "go"

// arguments are the command-line arguments; id is PARTY_ID as given, for the output lines.
type arguments struct {
	deployment, keyFile, dataFile, checkpointDir string
	id                                           string
	partyID                                      uint32
	steps, session                               uint64
}

// usageError is a bad command-line argument, reported with the status name
// of the library's argument errors.
type usageError struct{ message string }

func (e *usageError) Error() string { return e.message }

func main() {
	if len(os.Args) != 8 {
		fmt.Fprintln(os.Stderr, "usage: host-go DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID")
		os.Exit(2)
	}
	args, err := parseArguments(os.Args[1:])
	if err == nil {
		err = run(args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "party %s (%s): error %s\n", os.Args[2], runtimeName, describe(err))
		os.Exit(1)
	}
}

func parseArguments(values []string) (arguments, error) {
	args := arguments{deployment: values[0], id: values[1], keyFile: values[2], dataFile: values[3],
		checkpointDir: values[4]}
	id, err := strconv.ParseUint(values[1], 10, 32)
	if err != nil {
		return args, &usageError{fmt.Sprintf("PARTY_ID %q is not a party id: %v", values[1], err)}
	}
	args.partyID = uint32(id)
	if args.steps, err = strconv.ParseUint(values[5], 10, 64); err != nil {
		return args, &usageError{fmt.Sprintf("STEPS %q is not a step count: %v", values[5], err)}
	}
	if args.session, err = strconv.ParseUint(values[6], 10, 64); err != nil {
		return args, &usageError{fmt.Sprintf("SESSION_ID %q is not a session id: %v", values[6], err)}
	}
	return args, nil
}

// describe returns "STATUS_NAME: LIBRARY_MESSAGE" for an error.
func describe(err error) string {
	var libraryError *pcmoe.Error
	if errors.As(err, &libraryError) {
		return fmt.Sprintf("%s: %s", libraryError.Status, libraryError.Message)
	}
	var usage *usageError
	if errors.As(err, &usage) {
		return fmt.Sprintf("%s: %s", pcmoe.StatusInvalidArgument, usage.message)
	}
	return fmt.Sprintf("%s: %v", pcmoe.StatusInternal, err)
}

func partyParams(args arguments) (pcmoe.PartyParams, error) {
	params, err := pcmoe.DefaultPartyParams()
	if err != nil {
		return params, err
	}
	params.PartyID = args.partyID
	params.PartyCount = 3
	params.Session = args.session
	params.DModel, params.NHeads, params.NLayers = 64, 4, 2
	params.NExperts, params.TopK, params.ExpertHidden = 6, 2, 128
	params.SeqLen = 64
	params.Steps = args.steps
	params.Batch = 8
	params.LearningRate = 2e-3
	params.CallTimeout = 30 * time.Second
	params.UseBackboneSeed = true
	params.BackboneSeed = 1000 + uint64(args.partyID)
	return params, nil
}

func sessionParams(args arguments) (pcmoe.SessionParams, error) {
	params, err := pcmoe.DefaultSessionParams()
	if err != nil {
		return params, err
	}
	params.CheckpointFolder = args.checkpointDir
	params.EvaluationWindows = 64
	params.WaitTimeout = 120 * time.Second
	params.JoinTimeout = 120 * time.Second
	return params, nil
}
