package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// runExport writes the source's nodes (the manageable ones, or those
// named) as an inventory on stdout. Each machine is checked as `mogan
// migrate -i` will check it, so what is written reads back; nothing is
// written unless every node was exported.
func (a *app) runExport(ctx context.Context, f migrateFlags, args []string) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	ids := unique(args)
	if len(ids) == 0 {
		nodes, err := c.ListManageable(ctx, client.ListManageableOptions{Backend: f.from})
		if err != nil {
			return err
		}
		for _, n := range nodes {
			ids = append(ids, client.NodeString(n, "uuid"))
		}
	}
	machines := make([]driver.Machine, len(ids))
	failures := make([]error, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.concurrency)
	for i, id := range ids {
		g.Go(func() error {
			doc, err := c.ExportMachine(gctx, f.from, id)
			if err != nil {
				failures[i] = fmt.Errorf("node %s: %w", id, err)
				return nil
			}
			m, err := inventory.ValidateMachine(doc)
			if err != nil {
				failures[i] = fmt.Errorf("node %s: the export would not read back as an inventory: %w", id, err)
				return nil
			}
			machines[i] = m
			return nil
		})
	}
	_ = g.Wait()
	if err := errors.Join(failures...); err != nil {
		return err
	}
	var out bytes.Buffer
	if inventory.Format(f.out) == inventory.YAML {
		fmt.Fprintf(&out, "# The nodes of backend %s, exported by mogan migrate --export: an inventory\n", f.from)
		out.WriteString("# for mogan migrate -i (docs/operator.md §5). The fields each machine lists under\n")
		out.WriteString("# secrets are masked by the source: give their values in a secrets file.\n")
	}
	if err := inventory.Write(&out, inventory.Format(f.out), machines); err != nil {
		return fmt.Errorf("backend %s's nodes as %s: %w", f.from, f.out, err)
	}
	if _, err := a.env.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	var unnamed []string
	secrets := map[string]bool{}
	for i, m := range machines {
		if m.Name == "" {
			unnamed = append(unnamed, ids[i])
		}
		for _, s := range m.Secrets {
			secrets[s] = true
		}
	}
	printf(a.env.Stderr, "%d machines of backend %s exported\n", len(machines), f.from)
	if len(secrets) > 0 {
		names := make([]string, 0, len(secrets))
		for s := range secrets {
			names = append(names, s)
		}
		slices.Sort(names)
		printf(a.env.Stderr, "secret fields to give in a secrets file (--secrets-file): %s\n", strings.Join(names, ", "))
	}
	if len(unnamed) > 0 {
		printf(a.env.Stderr, "without a name (give each one before mogan migrate -i, which knows a machine by its name): %s\n", strings.Join(unnamed, ", "))
	}
	return nil
}

// unique is ids without repeats, in their order.
func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
