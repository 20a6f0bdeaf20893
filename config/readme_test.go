package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// readmeExample is the feeds.yaml example of the README's reference.
func readmeExample() (string, error) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(string(readme), "## feeds.yaml reference")
	if !ok {
		return "", errors.New("README has no feeds.yaml reference section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		return "", errors.New("README's feeds.yaml reference has no yaml block")
	}
	return example, nil
}

// TestREADMEConfigIsValid keeps the README's feeds.yaml reference true: the
// example must pass the same checks as a real file.
func TestREADMEConfigIsValid(t *testing.T) {
	example, err := readmeExample()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NEWSROOM_TOKEN", "0123456789abcdef0123")
	t.Setenv("WIRE_PASSWORD", "readme-password")
	t.Setenv("WIRE_KEY", "readme-key")
	cfg, err := Parse("README.md", t.TempDir(), []byte(example))
	if err != nil {
		t.Fatalf("the README's feeds.yaml example is invalid:\n%v", err)
	}
	if len(cfg.Sources) == 0 || len(cfg.Sections) == 0 {
		t.Errorf("example has %d sources and %d sections, want some of each", len(cfg.Sources), len(cfg.Sections))
	}
}
