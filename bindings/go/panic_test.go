package pcmoe

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// soloParty creates a party that is alone in its session, so it trains and
// runs sessions without a transport.
func soloParty(t *testing.T, steps uint64) *Party {
	t.Helper()
	params := tinyParams(t, 0, 1)
	params.PartyCount = 1
	params.Steps = steps
	party, err := NewParty(params)
	if err != nil {
		t.Fatalf("NewParty: %v", err)
	}
	t.Cleanup(func() { party.Close() })
	if err := party.LoadData(sampleText(0, 3000)); err != nil {
		t.Fatalf("LoadData: %v", err)
	}
	return party
}

// requirePanic checks that err is a *CallbackPanicError of `callback` with value "boom".
func requirePanic(t *testing.T, err error, callback string) *CallbackPanicError {
	t.Helper()
	var panicError *CallbackPanicError
	if !errors.As(err, &panicError) {
		t.Fatalf("got error %v (%T), expected a *pcmoe.CallbackPanicError", err, err)
	}
	if panicError.Callback != callback || panicError.Value != "boom" {
		t.Errorf("got a panic of the %s callback with %v", panicError.Callback, panicError.Value)
	}
	if !strings.Contains(string(panicError.Stack), "panic_test.go") {
		t.Errorf("the stack does not show the panicking function:\n%s", panicError.Stack)
	}
	return panicError
}

func TestSessionCallbackPanicRecovered(t *testing.T) {
	party := soloParty(t, 2)
	params, err := DefaultSessionParams()
	if err != nil {
		t.Fatalf("DefaultSessionParams: %v", err)
	}
	params.CheckpointFolder = t.TempDir()
	params.EvaluationWindows = 4
	events := 0
	_, err = party.RunSession(params, func(event SessionEvent) {
		events++
		panic("boom")
	})
	requirePanic(t, err, "session event")
	// The panic cancelled the session right after its first event.
	requireError(t, err, StatusCancelled, "")
	if events != 1 {
		t.Errorf("the callback ran %d times, expected once", events)
	}

	// The party is still usable, and the next session resumes without a panic.
	var kinds []SessionEventKind
	evaluation, err := party.RunSession(params, func(event SessionEvent) { kinds = append(kinds, event.Kind) })
	if err != nil {
		t.Fatalf("RunSession after the panic: %v", err)
	}
	if len(kinds) == 0 || kinds[len(kinds)-1] != SessionEvaluated || evaluation.Tokens != 4*16 {
		t.Errorf("events %v and evaluation %+v", kinds, evaluation)
	}
}

func TestProgressCallbackPanicRecovered(t *testing.T) {
	party := soloParty(t, 2)
	err := party.SetProgressCallback(func(Progress) { panic("boom") })
	if err != nil {
		t.Fatalf("SetProgressCallback: %v", err)
	}
	_, err = party.TrainTurn(1)
	requirePanic(t, err, "progress")
	if err := party.SetProgressCallback(nil); err != nil {
		t.Fatalf("SetProgressCallback(nil): %v", err)
	}
	if _, err := party.TrainTurn(2); err != nil {
		t.Errorf("TrainTurn after the panic: %v", err)
	}
}

func TestSendCallbackPanicRecovered(t *testing.T) {
	params := tinyParams(t, 0, 2)
	params.CallTimeout = 200 * time.Millisecond
	params.CallRetries = 0
	party, err := NewParty(params)
	if err != nil {
		t.Fatalf("NewParty: %v", err)
	}
	defer party.Close()
	if err := party.SetTransport(func(uint32, []byte) error { panic("boom") }); err != nil {
		t.Fatalf("SetTransport: %v", err)
	}
	err = party.Join()
	requirePanic(t, err, "send")
	requireError(t, err, StatusPeer, "")
}

func TestLogCallbackPanicRecovered(t *testing.T) {
	reader, writer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = writer
	defer func() { os.Stderr = stderr }()

	if err := SetLogCallback(LogDebug, func(LogLevel, string) { panic("boom") }); err != nil {
		t.Fatalf("SetLogCallback: %v", err)
	}
	requireError(t, SetThreads(0), StatusInvalidArgument, "thread count is 0")
	if err := SetLogCallback(LogDebug, nil); err != nil {
		t.Fatalf("SetLogCallback(nil): %v", err)
	}
	os.Stderr = stderr
	writer.Close()
	written, _ := io.ReadAll(reader)
	if !strings.Contains(string(written), "the log callback panicked: boom") {
		t.Errorf("standard error got %q", written)
	}
}

func TestByteCallbackPanicRecovered(t *testing.T) {
	party := soloParty(t, 2)
	count := 0
	produced, err := party.Generate([]byte("the "), 8, nil, func(byte) bool {
		count++
		if count == 2 {
			panic("boom")
		}
		return false
	})
	panicError := requirePanic(t, err, "byte")
	// The panic stopped the generation after its byte, which is a success.
	if panicError.Err != nil {
		t.Errorf("the generation failed: %v", panicError.Err)
	}
	if produced != 2 || count != 2 {
		t.Errorf("produced %d bytes and called back %d times, expected 2", produced, count)
	}

	text, err := party.GenerateBytes([]byte("the "), 8, nil)
	if err != nil || len(text) != 8 {
		t.Errorf("GenerateBytes after the panic: %q, %v", text, err)
	}
}
