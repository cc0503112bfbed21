package pcmoe

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pcmoeCLI returns the pcmoe command-line program, which makes the CURVE key
// pairs and reads an exported model: $PCMOE_CLI, or the release build of
// this repository.
func pcmoeCLI(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PCMOE_CLI")
	if path == "" {
		path = filepath.Join("..", "..", ".build", "release", "pcmoe")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the pcmoe program, which makes key pairs and reads exported models, is missing (%v); set PCMOE_CLI to its path", err)
	}
	return path
}

// testDeployment is a deployment file of parties on 127.0.0.1 and their key pair files.
type testDeployment struct {
	path     string
	session  uint64
	keyPaths []string
}

func newTestDeployment(t *testing.T, parties int, session uint64) *testDeployment {
	t.Helper()
	folder := t.TempDir()
	d := &testDeployment{path: filepath.Join(folder, "deployment.json"), session: session}
	cli := pcmoeCLI(t)
	for i := 0; i < parties; i++ {
		prefix := filepath.Join(folder, fmt.Sprintf("party%d", i))
		if output, err := exec.Command(cli, "keygen", "--out", prefix).CombinedOutput(); err != nil {
			t.Fatalf("pcmoe keygen: %v: %s", err, output)
		}
		d.keyPaths = append(d.keyPaths, prefix+".key")
	}
	d.writeWithFreePorts(t)
	return d
}

// writeWithFreePorts writes the deployment file with ports that are free
// on 127.0.0.1 now, as the system picks them for port 0.
func (d *testDeployment) writeWithFreePorts(t *testing.T) {
	t.Helper()
	var entries []string
	var listeners []net.Listener
	for i := range d.keyPaths {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("picking a free port: %v", err)
		}
		listeners = append(listeners, listener)
		port := listener.Addr().(*net.TCPAddr).Port
		entries = append(entries, fmt.Sprintf(`{"id": %d, "endpoint": "tcp://127.0.0.1:%d", "public_key_file": "party%d.pub"}`,
			i, port, i))
	}
	for _, listener := range listeners {
		listener.Close()
	}
	text := fmt.Sprintf("{\"session\": %d, \"parties\": [\n%s]}\n", d.session, strings.Join(entries, ",\n"))
	if err := os.WriteFile(d.path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// connect creates a network for every party, with new ports when a port
// was taken in the meantime.
func (d *testDeployment) connect(t *testing.T, parties []*Party) ([]*Network, error) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var networks []*Network
		if networks, err = d.tryConnect(parties); err == nil {
			return networks, nil
		}
		var libraryError *Error
		if !errors.As(err, &libraryError) || libraryError.Status != StatusIO {
			return nil, err
		}
		t.Logf("NewNetwork: %v; trying new ports", err)
		d.writeWithFreePorts(t)
	}
	return nil, err
}

func (d *testDeployment) tryConnect(parties []*Party) ([]*Network, error) {
	var networks []*Network
	for i, party := range parties {
		network, err := NewNetwork(party, d.path, d.keyPaths[i], 0)
		if err != nil {
			for _, n := range networks {
				n.Close()
			}
			return nil, err
		}
		networks = append(networks, network)
	}
	return networks, nil
}

// sessionRun is one party's RunSession on its own goroutine.
type sessionRun struct {
	mutex  sync.Mutex
	events []SessionEvent
	sent   atomic.Int64

	done       chan struct{}
	evaluation Evaluation
	err        error
}

func (r *sessionRun) record(event SessionEvent) {
	r.mutex.Lock()
	defer r.mutex.Unlock()
	r.events = append(r.events, event)
}

func (r *sessionRun) count(kind SessionEventKind) int {
	r.mutex.Lock()
	defer r.mutex.Unlock()
	n := 0
	for _, event := range r.events {
		if event.Kind == kind {
			n++
		}
	}
	return n
}

// startGated starts the session of every party behind a transport that
// drops what it sends and counts it. Once every party has sent something,
// open attaches the real transport, as the C header advises for parties of
// one process. On a failure it cancels the sessions and waits for them, so
// no session outlives the test's parties.
func startGated(t *testing.T, parties []*Party, params []SessionParams, open func() error) []*sessionRun {
	t.Helper()
	runs := make([]*sessionRun, len(parties))
	for i, party := range parties {
		run := &sessionRun{done: make(chan struct{})}
		runs[i] = run
		err := party.SetTransport(func(uint32, []byte) error {
			run.sent.Add(1)
			return nil
		})
		if err != nil {
			t.Fatalf("SetTransport(%d): %v", i, err)
		}
	}
	for i, party := range parties {
		run, party, params := runs[i], party, params[i]
		go func() {
			defer close(run.done)
			run.evaluation, run.err = party.RunSession(params, run.record)
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, run := range runs {
		for run.sent.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if run.sent.Load() == 0 {
			cancelAndWait(parties, runs)
			t.Fatalf("a session sent nothing within 60 seconds")
		}
	}
	if err := open(); err != nil {
		cancelAndWait(parties, runs)
		t.Fatalf("attaching the transport: %v", err)
	}
	return runs
}

func cancelAndWait(parties []*Party, runs []*sessionRun) {
	for _, party := range parties {
		party.Cancel()
	}
	for _, run := range runs {
		<-run.done
	}
}

func TestNetworkSessionWithCurve(t *testing.T) {
	const rounds = 2
	parties := tinyParties(t, rounds)
	deployment := newTestDeployment(t, testParties, 99)
	params := make([]SessionParams, testParties)
	for i := range params {
		var err error
		if params[i], err = DefaultSessionParams(); err != nil {
			t.Fatalf("DefaultSessionParams: %v", err)
		}
		params[i].CheckpointFolder = t.TempDir()
		params[i].EvaluationWindows = 8
		params[i].JoinTimeout = 60 * time.Second
		params[i].WaitTimeout = 60 * time.Second
	}

	var networks []*Network
	runs := startGated(t, parties, params, func() (err error) {
		networks, err = deployment.connect(t, parties)
		return err
	})
	for _, run := range runs {
		<-run.done
	}
	defer func() {
		for _, network := range networks {
			network.Close()
		}
	}()

	for i, run := range runs {
		if run.err != nil {
			t.Fatalf("party %d: RunSession: %v", i, run.err)
		}
		checkSessionEvents(t, i, run, rounds)
		if run.evaluation.Tokens != 8*16 || math.IsNaN(run.evaluation.Loss) {
			t.Errorf("party %d: evaluation %+v", i, run.evaluation)
		}
		metrics, err := parties[i].Metrics()
		if err != nil {
			t.Fatalf("Metrics: %v", err)
		}
		if metrics.BytesSent == 0 || metrics.BytesReceived == 0 {
			t.Errorf("party %d sent %d and received %d bytes", i, metrics.BytesSent, metrics.BytesReceived)
		}
		if metrics.MessagesSent == 0 || metrics.MessagesReceived == 0 {
			t.Errorf("party %d sent %d and received %d messages", i, metrics.MessagesSent, metrics.MessagesReceived)
		}
		counters, err := networks[i].Stats()
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if counters.RejectedConnections != 0 {
			t.Errorf("party %d rejected %d connections", i, counters.RejectedConnections)
		}
	}
}

// checkSessionEvents checks the events of a fresh session without faults.
func checkSessionEvents(t *testing.T, id int, run *sessionRun, rounds int) {
	t.Helper()
	run.mutex.Lock()
	events := append([]SessionEvent(nil), run.events...)
	run.mutex.Unlock()
	if len(events) < 2 {
		t.Fatalf("party %d: events %+v", id, events)
	}
	if first := events[0]; first.Kind != SessionJoined || first.Turn != 0 || first.Resumed {
		t.Errorf("party %d: first event %+v, expected a fresh join", id, first)
	}
	if last := events[len(events)-1]; last.Kind != SessionEvaluated || last.Loss != run.evaluation.Loss {
		t.Errorf("party %d: last event %+v, expected the evaluation", id, last)
	}
	if n := run.count(SessionFault); n != 0 {
		t.Errorf("party %d: %d faults", id, n)
	}
	turns := 0
	for _, event := range events {
		if event.Kind != SessionTurn {
			continue
		}
		turns++
		if (event.Turn-1)%testParties != uint64(id) || math.IsNaN(event.Loss) || math.IsInf(event.Loss, 0) {
			t.Errorf("party %d: turn event %+v", id, event)
		}
	}
	if turns != rounds {
		t.Errorf("party %d: %d turn events, expected %d", id, turns, rounds)
	}
}
