package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// The modes a call can be told to run in.
const (
	modeNormal        = "normal"
	modePanic         = "panic"
	modeExit          = "exit"
	modeHang          = "hang"
	modeSlow          = "slow"
	modeNotFound      = "not_found"
	modeNotManageable = "not_manageable"
	modeConflict      = "conflict"
	modeUnavailable   = "unavailable"
	modeInvalid       = "invalid"
)

// defaultCount is the number of nodes without a control file.
const defaultCount = 10

// control is the decoded control file (see the package comment).
type control struct {
	Count    *int     `json:"count"`
	List     string   `json:"list"`
	Get      string   `json:"get"`
	Manage   string   `json:"manage"`
	Unmanage string   `json:"unmanage"`
	After    int      `json:"after"`
	Delay    duration `json:"delay"`
	Reason   string   `json:"reason"`
}

// count is the number of nodes the driver knows.
func (c control) count() int {
	if c.Count == nil {
		return defaultCount
	}
	return *c.Count
}

// readControl reads the control file; an empty path means all normal.
func readControl(path string) (control, error) {
	var c control
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("control file %s: %w", path, err)
	}
	for _, m := range []string{c.List, c.Get, c.Manage, c.Unmanage} {
		if !validMode(m) {
			return c, fmt.Errorf("control file %s: unknown mode %q", path, m)
		}
	}
	return c, nil
}

func validMode(m string) bool {
	switch m {
	case "", modeNormal, modePanic, modeExit, modeHang, modeSlow,
		modeNotFound, modeNotManageable, modeConflict, modeUnavailable, modeInvalid:
		return true
	}
	return false
}

// duration reads a Go duration string ("10ms").
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}
