package benchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// MigrateWithReruns runs the mogan CLI at moganPath with args (a `migrate`
// command that asks for `-f json`) against the host at hostURL, as an
// operator runs it, and again while machines failed (Neutron on SQLite
// answers 500 now and then under load): a rerun skips what is done. Each
// rerun is noted in reruns; machines that still failed after two reruns
// are an error.
func MigrateWithReruns(ctx context.Context, moganPath, hostURL string, args []string, reruns *Notes) error {
	for attempt := 0; ; attempt++ {
		failed, err := migrate(ctx, moganPath, hostURL, args)
		if err != nil || len(failed) == 0 {
			return err
		}
		if attempt == 2 {
			return fmt.Errorf("mogan migrate: %d machines still failed after two reruns: %s", len(failed), strings.Join(failed, "; "))
		}
		reruns.Add(fmt.Sprintf("host: reran mogan migrate for %d failed (%s)", len(failed), strings.Join(failed, "; ")))
	}
}

// migrate runs the command once and returns the reasons of the machines
// that failed.
func migrate(ctx context.Context, moganPath, hostURL string, args []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, moganPath, args...)
	cmd.Env = append(os.Environ(), "MOGAN_URL="+hostURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var results []struct {
		Machine string `json:"machine"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &results); jerr != nil {
		return nil, fmt.Errorf("mogan migrate: %w, -f json: %w\n%s", err, jerr, service.Tail(stderr.String(), 10))
	}
	var failed []string
	for _, r := range results {
		if r.Outcome != "migrated" && r.Outcome != "skipped" {
			failed = append(failed, r.Machine+": "+r.Reason)
		}
	}
	return failed, nil
}
