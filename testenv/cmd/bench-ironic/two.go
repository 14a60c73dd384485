package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/ironicbench"
)

// backendNames are the two backends' names, in enabled_backends order.
var backendNames = []string{"east", "west"}

// twoBackendCases measures a host with two Ironic backends (issue 16):
// its full listing of both against the two raw fetches made one after
// the other, the same listing paged with o.twoLimit (a page crossing from
// east to west) against the same, and the peak RSS of the host and of
// both plugins.
func (b *bench) twoBackendCases(ctx context.Context) (err error) {
	n := b.o.twoBackends
	b.tables = append(b.tables, table{title: fmt.Sprintf(
		"two backends (east, west), %d nodes each (%d ports, %d portgroups each); median of %d runs, host and raw alternating",
		n, 2*n, n, b.o.runs)})
	if b.ironic != nil {
		// The one-backend cases' Ironic would only take memory and CPU.
		_ = b.ironic.Stop()
	}
	logf("starting two standalone Ironics (max_limit %d) and bulk-loading %d nodes into each", pageSize, n)
	servers := make([]*ironic.Server, len(backendNames))
	loaded := make([][]ironic.Node, len(backendNames))
	defer func() {
		for _, s := range servers {
			if s != nil {
				_ = s.Stop()
			}
		}
	}()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for i, name := range backendNames {
		g.Go(func() error {
			s, err := ironic.Start(gctx, ironic.Options{
				Dir: filepath.Join(b.dir, "ironic-"+name), MaxLimit: pageSize, DieWithParent: true, NoPowerSync: !b.o.powerSync,
			})
			if err != nil {
				return fmt.Errorf("backend %s's Ironic: %w", name, err)
			}
			servers[i] = s
			loaded[i], err = s.Fixture().BulkLoad(gctx, n, ironic.BulkOptions{Portgroup: true})
			if err != nil {
				return fmt.Errorf("backend %s's Ironic: %w", name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	logf("two Ironics up with %d nodes each in %s", n, time.Since(start).Round(time.Millisecond))
	if err := b.idleIronics(ctx, backendNames, servers); err != nil {
		return err
	}

	cfg := ironicbench.HostConfig{Bin: b.o.bin, Dir: filepath.Join(b.dir, "mogan-two-backends")}
	for i, name := range backendNames {
		cfg.Backends = append(cfg.Backends, ironicbench.Backend{Name: name, IronicURL: servers[i].URL})
	}
	h, err := ironicbench.StartHost(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := h.Stop(); err == nil {
			err = stopErr
		}
	}()
	logf("mogan-api at %s with backends %s (plugins %v)", h.URL, strings.Join(backendNames, ", "), h.Plugins)
	m := meter{procs: []metered{{"host", h.PID, false}}, ironicNames: backendNames, ironics: servers}
	for _, name := range backendNames {
		m.procs = append(m.procs, metered{"plugin " + name, h.Plugins[name], false})
	}
	for i, name := range backendNames {
		m.procs = append(m.procs, metered{"Ironic " + name, servers[i].PID, true})
	}

	var want []ironicbench.Run
	for _, name := range backendNames {
		want = append(want, ironicbench.Run{Backend: name, Nodes: n})
	}
	raw := func(ctx context.Context) error {
		for i, s := range servers {
			counts, err := ironicbench.RawFetch(ctx, b.hc, s.URL, pageSize)
			if err != nil {
				return fmt.Errorf("raw fetch of %s: %w", backendNames[i], err)
			}
			if counts["nodes"] != n {
				return fmt.Errorf("raw fetch of %s read %d nodes, want %d", backendNames[i], counts["nodes"], n)
			}
		}
		return nil
	}
	full := func(ctx context.Context) error {
		runs, _, err := h.ListRuns(ctx, b.hc, h.URL+"/v1/manageable_servers")
		if err == nil && !slices.Equal(runs, want) {
			err = fmt.Errorf("the host listed %v, want %v", runs, want)
		}
		return err
	}
	limit := b.o.twoLimit
	paged := func(ctx context.Context) error {
		next := h.URL + "/v1/manageable_servers?limit=" + strconv.Itoa(limit)
		var runs []ironicbench.Run
		pages, crossing := 0, 0
		for next != "" {
			page, link, err := h.ListRuns(ctx, b.hc, next)
			if err != nil {
				return err
			}
			if len(page) > 1 {
				crossing++
			}
			for _, r := range page {
				runs = ironicbench.AddRun(runs, r)
			}
			pages, next = pages+1, link
		}
		if !slices.Equal(runs, want) {
			return fmt.Errorf("the host's %d pages held %v, want %v", pages, runs, want)
		}
		if n%limit != 0 && crossing != 1 {
			return fmt.Errorf("%d of the host's pages held nodes of both backends, want 1", crossing)
		}
		return nil
	}

	logf("warming up (one full listing and the two raw fetches, not counted)")
	if err := full(ctx); err != nil {
		return err
	}
	if err := raw(ctx); err != nil {
		return err
	}
	// The first page, and one from east's last but one node on, which
	// crosses into west.
	for _, query := range []string{"limit=3", "limit=3&marker=" + loaded[0][len(loaded[0])-2].UUID} {
		if err := b.showPage(ctx, h, query); err != nil {
			return err
		}
	}
	if err := b.sideBySide(ctx, m, fmt.Sprintf("two backends: one full listing, 2 × %d nodes (raw: the two fetches one after the other)", n),
		1.1, full, raw); err != nil {
		return err
	}
	if err := b.sideBySide(ctx, m, fmt.Sprintf("two backends: the same 2 × %d nodes paged, limit=%d (a page crosses from east to west)", n, limit),
		1.3, paged, raw); err != nil {
		return err
	}
	hostRSS := vmHWM(h.PID)
	rss := []string{"host " + mib(hostRSS)}
	kB := []string{fmt.Sprintf("host %d kB", hostRSS>>10)}
	const goal = 100 << 20
	met := hostRSS > 0 && hostRSS <= goal
	for _, name := range backendNames {
		p := vmHWM(h.Plugins[name])
		rss = append(rss, "plugin "+name+" "+mib(p))
		kB = append(kB, fmt.Sprintf("plugin %s %d kB", name, p>>10))
		met = met && p > 0 && p <= goal
	}
	b.addRow(row{
		name: fmt.Sprintf("peak RSS while listing 2 × %d nodes (VmHWM)", n),
		host: strings.Join(rss, ", "), raw: "–", ratio: "–", goal: "≤ 100 MiB each", met: met,
	})
	b.raw = append(b.raw, "two backends, peak RSS: "+strings.Join(kB, ", "))
	return nil
}

// showPage records a page of the host's listing as it came (the nodes
// and their "backend"), for the record.
func (b *bench) showPage(ctx context.Context, h *ironicbench.Host, query string) error {
	target := "/v1/manageable_servers?" + query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+target, nil)
	if err != nil {
		return err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s %s", target, resp.Status, body)
	}
	b.raw = append(b.raw, fmt.Sprintf("two backends, GET %s (as it came):\n    %s", target,
		strings.ReplaceAll(strings.TrimSpace(string(body)), "\n", "\n    ")))
	return nil
}
