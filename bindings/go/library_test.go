package pcmoe

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestVersionMatchesHeader(t *testing.T) {
	header := fmt.Sprintf("%d.%d.%d", HeaderVersionMajor, HeaderVersionMinor, HeaderVersionPatch)
	if got := Version(); got != header {
		t.Errorf("Version() = %q, expected the header's %q", got, header)
	}
	if ProtocolVersion < 1 {
		t.Errorf("ProtocolVersion = %d", ProtocolVersion)
	}
}

func TestStatusStrings(t *testing.T) {
	if got := StatusInvalidArgument.String(); got != "invalid argument" {
		t.Errorf("StatusInvalidArgument.String() = %q", got)
	}
	seen := map[string]Status{}
	for status := StatusOK; status <= StatusInternal; status++ {
		name := status.String()
		if name == "" || name == "unknown status" {
			t.Errorf("status %d has name %q", int32(status), name)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("statuses %d and %d share the name %q", int32(other), int32(status), name)
		}
		seen[name] = status
	}
	if got := Status(99).String(); got != "unknown status" {
		t.Errorf("Status(99).String() = %q", got)
	}
}

func TestSetThreadsErrorAndLog(t *testing.T) {
	var mutex sync.Mutex
	var messages []string
	err := SetLogCallback(LogDebug, func(level LogLevel, message string) {
		mutex.Lock()
		defer mutex.Unlock()
		messages = append(messages, message)
	})
	if err != nil {
		t.Fatalf("SetLogCallback: %v", err)
	}
	defer SetLogCallback(LogDebug, nil)

	libraryError := requireError(t, SetThreads(0), StatusInvalidArgument, "thread count is 0")
	if libraryError.Op != "pcmoe_set_threads" {
		t.Errorf("Op = %q", libraryError.Op)
	}
	if !strings.Contains(libraryError.Error(), "invalid argument: ") {
		t.Errorf("Error() = %q", libraryError.Error())
	}
	mutex.Lock()
	logged := strings.Join(messages, "\n")
	mutex.Unlock()
	if !strings.Contains(logged, "thread count is 0") {
		t.Errorf("the log callback received %q, expected the error", logged)
	}

	before := Threads()
	if err := SetThreads(1); err != nil {
		t.Fatalf("SetThreads(1): %v", err)
	}
	if got := Threads(); got != 1 {
		t.Errorf("Threads() = %d after SetThreads(1)", got)
	}
	if err := SetThreads(before); err != nil {
		t.Fatalf("SetThreads(%d): %v", before, err)
	}
}

func TestLogCallbackLevelRejected(t *testing.T) {
	err := SetLogCallback(LogLevel(5), func(LogLevel, string) {})
	requireError(t, err, StatusInvalidArgument, "5")
}

func TestPeakResidentBytes(t *testing.T) {
	if got := PeakResidentBytes(); got < 1<<20 {
		t.Errorf("PeakResidentBytes() = %d, expected at least 1 MiB", got)
	}
}
