package pcmoe

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireNoFile checks that nothing exists at path.
func requireNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed export (stat: %v)", path, err)
	}
}

func TestExportPolicy(t *testing.T) {
	parties := trainedParties(t)
	folder := t.TempDir()
	path := filepath.Join(folder, "whole.safetensors")

	err := parties[1].ExportModel(path)
	libraryError := requireError(t, err, StatusPeer, "party 0 refuses to send its experts to party 1")
	if !strings.Contains(libraryError.Message, "party 2 refuses to send its experts to party 1") {
		t.Errorf("the message %q does not name party 2", libraryError.Message)
	}
	if libraryError.Op != "pcmoe_party_export_model" {
		t.Errorf("Op = %q", libraryError.Op)
	}
	requireNoFile(t, path)

	requireError(t, parties[0].AllowExport(1, 7), StatusInvalidArgument, "party 7")
	if err := parties[0].AllowExport(1); err != nil {
		t.Fatalf("AllowExport on party 0: %v", err)
	}
	err = parties[1].ExportModel(path)
	libraryError = requireError(t, err, StatusPeer, "party 2 refuses to send its experts to party 1")
	if strings.Contains(libraryError.Message, "party 0 refuses") {
		t.Errorf("party 0 allowed the export, but the message %q names it", libraryError.Message)
	}
	requireNoFile(t, path)

	if err := parties[2].AllowExport(1); err != nil {
		t.Fatalf("AllowExport on party 2: %v", err)
	}
	if err := parties[1].ExportModel(path); err != nil {
		t.Fatalf("ExportModel after both owners allowed it: %v", err)
	}
	checkExportedFile(t, path)
	checkExportedModelGenerates(t, parties[1], path)

	if err := parties[2].AllowExport(); err != nil {
		t.Fatalf("AllowExport() on party 2: %v", err)
	}
	again := filepath.Join(folder, "again.safetensors")
	requireError(t, parties[1].ExportModel(again), StatusPeer, "party 2 refuses to send its experts to party 1")
	requireNoFile(t, again)
}

// checkExportedFile checks the mode and the safetensors framing of an
// exported model: a little-endian 64-bit header length, then a JSON header.
func checkExportedFile(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the exported model is missing: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("the exported model has mode %o, expected 600", mode)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(content) < 9 {
		t.Fatalf("the exported model has %d bytes", len(content))
	}
	headerSize := binary.LittleEndian.Uint64(content[:8])
	if headerSize == 0 || headerSize > uint64(len(content)-8) || content[8] != '{' {
		t.Errorf("the exported model does not start with a safetensors header (size %d)", headerSize)
	}
}

// checkExportedModelGenerates checks that `pcmoe generate --model` continues
// a prompt greedily with the exported file as the party does over the hub.
func checkExportedModelGenerates(t *testing.T, party *Party, path string) {
	t.Helper()
	sampling, err := DefaultSamplingParams()
	if err != nil {
		t.Fatalf("DefaultSamplingParams: %v", err)
	}
	sampling.Temperature = 0
	expected := generate(t, party, 16, &sampling)

	command := exec.Command(pcmoeCLI(t), "generate", "--model", path, "--prompt", string(generatePrompt),
		"--temperature", "0", "--max-bytes", "16")
	var stderr bytes.Buffer
	command.Stderr = &stderr
	output, err := command.Output()
	if err != nil {
		t.Fatalf("pcmoe generate --model failed: %v: %s", err, stderr.String())
	}
	if !bytes.Equal(output, expected) {
		t.Errorf("pcmoe generate --model gave %q, the party over the hub %q", output, expected)
	}
}
