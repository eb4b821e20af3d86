package main

import (
	"slices"
	"testing"

	"github.com/thunaivi/thunaivi/internal/config"
)

// Flags may follow the file they go with, as people type them.
func TestFlagsMayFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	var cfg config.Config
	fs := flags("restore")
	cfg.Storage(fs)
	verify := fs.Bool("verify", false, "")
	files, err := parseWithFiles(fs, &cfg, []string{"--verify", "b.thvbak", "--data", dir})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{"b.thvbak"}) || !*verify || cfg.DataDir != dir {
		t.Fatalf("files %v, verify %v, data %q", files, *verify, cfg.DataDir)
	}
}
