package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/migrate"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// migrateFlags are `mogan migrate`'s flags, for its three forms.
type migrateFlags struct {
	inventory    string
	from, to     string
	export       bool
	all          bool
	adopt        bool
	nameTemplate string
	description  string
	properties   []string
	project      string
	user         string
	secretsFile  string
	networkMap   []string
	imageMap     []string
	concurrency  int
	dryRun       bool
	out          string
	pollInterval time.Duration
}

const migrateLong = `Migrate running machines into a backend that can enroll them (Ironic), and
with --adopt adopt each as a server, without touching the machines: no
cleaning, no deployment, no power or boot-device change, ever.

  mogan migrate -i FILE [--to B] [--adopt] [--secrets-file F] [--dry-run]
      the machines an inventory describes (YAML, JSON or CSV: etc/inventory.sample.yaml).
      The inventory and the secrets file are checked first: a mistake is named
      (file, line, machine, field) and nothing is sent (exit 2).
  mogan migrate --from A [--to B] NODE... | --all [--adopt] [--network-map X=Y]...
      hand nodes over from backend A (another cloud's Ironic): held in A, enrolled
      and proven in B, then released from A; until then any failure puts them back.
  mogan migrate --from A --export [NODE...] [-f yaml|json|csv]
      write A's nodes as an inventory on stdout, secrets named, never their values.

--to may be left out when exactly one backend can enroll (mogan reads GET
/v1/backends). Each migration is started with an idempotency key (the SHA-256 of
the target and the machine's name, or of source, node and target), so a rerun
finds what an earlier run started or finished instead of doing it again.

--concurrency migrations are unfinished at once; each is followed until it ends,
with a progress bar on a terminal (a line per machine otherwise), then a table of
every machine. Outcomes: migrated; would migrate (--dry-run: every check on both
sides, nothing changed); skipped (done by an earlier run); failed (the reason and
the request id: a migration rolled back left nothing behind; one whose adoption
failed stays in the target, untouched, for mogan migration retry). Ctrl-C starts
no more migrations and follows those running to their end; a second Ctrl-C stops
following them (they finish or roll back in the service). Exit 0 when every
machine migrated, would migrate or was skipped; 1 when any failed; 2 on a usage,
inventory or secrets-file error.

The secrets file (YAML, chmod 600: etc/secrets.sample.yaml) gives the values of
the driver_info fields a machine lists under secrets: {"<machine name>": {field:
value}, "*": {field: value}}; a machine gets the fields it names, from its own
entry over "*". In a handoff the node's name is the key, and its whole entry
(over "*") goes with it: the API takes the fields the source masks. No value is
ever printed.

--name-template (with --adopt) is a Go template over the machine ({{.name}},
{{.driver}}, {{.resource_class}}, {{.backend}} the target, …) or, in a handoff,
over the node as the API lists it ({{.uuid}}, {{.name}}, …).`

func (a *app) migrateCommand() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate (-i FILE | --from A [NODE...|--all] | --from A --export) [--to B] [--adopt]",
		Short: "Migrate running machines from an inventory or another backend, without touching them",
		Long:  migrateLong,
		Args: func(cmd *cobra.Command, args []string) error {
			return f.check(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.inventory != "":
				return a.runMigrateInventory(cmd.Context(), f)
			case f.export:
				return a.runExport(cmd.Context(), f, args)
			}
			return a.runHandoff(cmd.Context(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.inventory, "inventory", "i", "", "the inventory file of the machines to migrate (YAML, JSON or CSV)")
	fl.StringVar(&f.from, "from", "", "the source backend: hand its nodes over (NODE... or --all), or --export them")
	fl.StringVar(&f.to, "to", "", "the target backend (default: the one backend that can enroll)")
	fl.BoolVar(&f.export, "export", false, "with --from: write the nodes as an inventory on stdout")
	fl.BoolVar(&f.all, "all", false, "with --from: every manageable node of the source")
	fl.BoolVar(&f.adopt, "adopt", false, "adopt each machine as a server once it is in the target")
	fl.StringVar(&f.nameTemplate, "name-template", "", "with --adopt: the server's name, a Go template (default: the machine's name)")
	fl.StringVar(&f.description, "description", "", "with --adopt: the servers' description")
	fl.StringArrayVar(&f.properties, "property", nil, "with --adopt: metadata key=value for every server (repeatable)")
	fl.StringVar(&f.project, "project", "", "with --adopt: the servers' project id (default: yours)")
	fl.StringVar(&f.user, "user", "", "with --adopt: the servers' user id (default: yours)")
	fl.StringVar(&f.secretsFile, "secrets-file", "", "the secrets file (YAML, chmod 600) giving the values of the machines' secret fields")
	fl.StringArrayVar(&f.networkMap, "network-map", nil, "with --from: SOURCE_NETWORK_OR_PHYSNET=TARGET_NETWORK (repeatable)")
	fl.StringArrayVar(&f.imageMap, "image-map", nil, "with --from: SOURCE_IMAGE=TARGET_IMAGE (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", 8, "migrations unfinished at once")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check every machine on both sides, change nothing")
	fl.StringVarP(&f.out, "format", "f", "", "output: table or json (a run); yaml, json or csv (--export; default yaml)")
	fl.DurationVar(&f.pollInterval, "poll-interval", time.Second, "the longest wait between two reads of a running migration")
	_ = fl.MarkHidden("poll-interval")
	return cmd
}

// check refuses a command line that mixes the three forms.
func (f *migrateFlags) check(cmd *cobra.Command, args []string) error {
	set := func(name string) bool { return cmd.Flags().Changed(name) }
	only := func(form string, flags ...string) error {
		for _, fl := range flags {
			if set(fl) {
				return usagef("--%s does not go with %s", fl, form)
			}
		}
		return nil
	}
	switch {
	case f.inventory != "" && f.from != "":
		return usagef("give --inventory or --from, not both")
	case f.inventory == "" && f.from == "":
		return usagef("give --inventory FILE (machines from an inventory) or --from BACKEND (a handoff, or --export)")
	case f.concurrency < 1:
		return usagef("--concurrency must be at least 1, not %d", f.concurrency)
	case f.pollInterval <= 0:
		return usagef("--poll-interval must be positive")
	}
	if !f.adopt {
		if err := only("a migration without --adopt (they name the servers --adopt creates)", "name-template", "description", "property", "project", "user"); err != nil {
			return err
		}
	}
	switch {
	case f.inventory != "":
		if len(args) > 0 {
			return usagef("--inventory takes no NODE arguments: the inventory names the machines")
		}
		if err := only("--inventory", "all", "export", "network-map", "image-map"); err != nil {
			return err
		}
		return checkRunFormat(f.out)
	case f.export:
		if err := only("--export", "to", "adopt", "all", "secrets-file", "network-map", "image-map", "dry-run"); err != nil {
			return err
		}
		switch f.out {
		case "":
			f.out = string(inventory.YAML)
		case string(inventory.YAML), string(inventory.JSON), string(inventory.CSV):
		default:
			return usagef("--format for --export must be yaml, json or csv, not %q", f.out)
		}
		return nil
	}
	switch {
	case f.all && len(args) > 0:
		return usagef("give NODE_UUIDs or --all, not both")
	case !f.all && len(args) == 0:
		return usagef("give the NODE_UUIDs of %s to migrate, or --all", f.from)
	}
	return checkRunFormat(f.out)
}

func checkRunFormat(out string) error {
	switch format(out) {
	case "", formatTable, formatJSON:
		return nil
	}
	return usagef("--format must be table or json, not %q", out)
}

// serverOf is the server part of a request, nil without --adopt.
func (f *migrateFlags) serverOf(name string, metadata map[string]string) *client.MigrationServer {
	if !f.adopt {
		return nil
	}
	return &client.MigrationServer{Name: name, Description: f.description, Metadata: metadata, ProjectID: f.project, UserID: f.user}
}

// runMigrateInventory migrates the machines of an inventory: everything
// local (the inventory, the secrets, the names) is checked before the
// first request.
func (a *app) runMigrateInventory(ctx context.Context, f migrateFlags) error {
	metadata, err := parseProperties(f.properties)
	if err != nil {
		return err
	}
	tmpl, err := nameTemplate(f.nameTemplate, "{{.name}}")
	if err != nil {
		return err
	}
	machines, err := inventory.ReadFile(f.inventory)
	if err != nil {
		return inputError{err}
	}
	var problems inventory.Errors
	names := make([]string, len(machines))
	for i, m := range machines {
		if m.Name == "" {
			problems = append(problems, &inventory.Error{File: f.inventory, Machine: fmt.Sprintf("machines[%d]", i), Field: "name",
				Message: "is required by mogan migrate: a rerun and the secrets file know a machine by its name"})
		}
		names[i] = m.Name
	}
	if len(problems) > 0 {
		return inputError{problems}
	}
	secrets, err := loadSecrets(f.secretsFile)
	if err != nil {
		return err
	}
	if err := secrets.CheckNames(names, "in "+f.inventory); err != nil {
		return inputError{err}
	}
	values := make([]map[string]inventory.Secret, len(machines))
	for i, m := range machines {
		v, err := secrets.For(m.Name, m.Secrets)
		var es inventory.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				e.File = f.inventory
			}
			problems = append(problems, es...)
			continue
		} else if err != nil {
			return err
		}
		values[i] = v
	}
	if len(problems) > 0 {
		return inputError{problems}
	}

	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	target, err := a.resolveTarget(ctx, c, f.to, "")
	if err != nil {
		return err
	}
	items := make([]migrate.Item, len(machines))
	for i, m := range machines {
		var server *client.MigrationServer
		if f.adopt {
			name, err := execName(tmpl, machineData(m, target))
			if err != nil {
				return inputError{fmt.Errorf("%s: machine %q: --name-template: %w", f.inventory, m.Name, err)}
			}
			server = f.serverOf(name, metadata)
		}
		items[i] = migrate.Item{Label: m.Name, Request: client.MigrationRequest{
			Source:         client.MigrationSource{Machine: &machines[i]},
			Target:         client.MigrationTarget{Backend: target},
			Server:         server,
			Secrets:        values[i],
			IdempotencyKey: migrate.InventoryKey(target, m.Name),
		}}
	}
	return a.runMigrations(ctx, c, f, items, "machine")
}

func loadSecrets(path string) (*inventory.Secrets, error) {
	if path == "" {
		return nil, nil
	}
	s, err := inventory.LoadSecrets(path)
	if err != nil {
		return nil, inputError{err}
	}
	return s, nil
}

// runHandoff hands nodes of one backend over to another.
func (a *app) runHandoff(ctx context.Context, f migrateFlags, args []string) error {
	metadata, err := parseProperties(f.properties)
	if err != nil {
		return err
	}
	networkMap, err := parseMap("--network-map", f.networkMap)
	if err != nil {
		return err
	}
	imageMap, err := parseMap("--image-map", f.imageMap)
	if err != nil {
		return err
	}
	tmpl, err := nameTemplate(f.nameTemplate, defaultNameTemplate)
	if err != nil {
		return err
	}
	secrets, err := loadSecrets(f.secretsFile)
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	target, err := a.resolveTarget(ctx, c, f.to, f.from)
	if err != nil {
		return err
	}
	if target == f.from {
		return usagef("--from and --to are both %s", f.from)
	}
	listed, err := c.ListManageable(ctx, client.ListManageableOptions{All: true, Backend: f.from})
	if err != nil {
		return err
	}
	var nodeNames []string
	for _, n := range listed {
		if name := client.NodeString(n, "name"); name != "" {
			nodeNames = append(nodeNames, name)
		}
	}
	if err := secrets.CheckNames(nodeNames, "among "+f.from+"'s nodes"); err != nil {
		return inputError{err}
	}
	nodes := selectNodes(listed, f.all, args, f.from)
	items := make([]migrate.Item, len(nodes))
	for i, n := range nodes {
		id, name := client.NodeString(n, "uuid"), client.NodeString(n, "name")
		label := name
		if label == "" {
			label = id
		}
		var server *client.MigrationServer
		if f.adopt {
			srvName, err := execName(tmpl, templateData(n))
			if err != nil {
				return inputError{fmt.Errorf("node %s: --name-template: %w", id, err)}
			}
			server = f.serverOf(srvName, metadata)
		}
		var values map[string]inventory.Secret
		if entry := secrets.Entry(name); len(entry) > 0 {
			values = entry
		}
		items[i] = migrate.Item{Label: label, NodeUUID: id, Request: client.MigrationRequest{
			Source:         client.MigrationSource{Backend: f.from, NodeUUID: id},
			Target:         client.MigrationTarget{Backend: target},
			Server:         server,
			Secrets:        values,
			NetworkMap:     networkMap,
			ImageMap:       imageMap,
			IdempotencyKey: migrate.HandoffKey(f.from, id, target),
		}}
	}
	return a.runMigrations(ctx, c, f, items, "node")
}

// selectNodes is --all's manageable nodes, or the named ones as the
// listing has them (a node it lacks has only its uuid: the API will say
// why it cannot go).
func selectNodes(listed []client.Node, all bool, args []string, backend string) []client.Node {
	if all {
		var out []client.Node
		for _, n := range listed {
			if n["manageable"] != false {
				out = append(out, n)
			}
		}
		return out
	}
	byUUID := make(map[string]client.Node, len(listed))
	for _, n := range listed {
		byUUID[client.NodeString(n, "uuid")] = n
	}
	var out []client.Node
	seen := map[string]bool{}
	for _, id := range args {
		if seen[id] {
			continue
		}
		seen[id] = true
		n, ok := byUUID[id]
		if !ok {
			n = client.Node{"uuid": id, "backend": backend}
		}
		out = append(out, n)
	}
	return out
}

// parseMap reads repeated A=B flags.
func parseMap(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return nil, usagef("%s %q: want SOURCE=TARGET", flag, p)
		}
		if prev, dup := out[k]; dup && prev != v {
			return nil, usagef("%s maps %q twice", flag, k)
		}
		out[k] = v
	}
	return out, nil
}

// resolveTarget is --to, checked against GET /v1/backends, or the one
// backend (other than source) that can enroll.
func (a *app) resolveTarget(ctx context.Context, c *client.Client, to, source string) (string, error) {
	backends, err := c.ListBackends(ctx)
	var apiErr *client.APIError
	if err != nil && to != "" && errors.As(err, &apiErr) && apiErr.Status == 404 {
		return to, nil // an API without GET /v1/backends: it will say what it thinks of --to
	}
	if err != nil {
		return "", fmt.Errorf("reading the backends (GET /v1/backends) to find the target: %w", err)
	}
	var enrollers, all []string
	for _, b := range backends {
		all = append(all, b.Name)
		if slices.Contains(b.Capabilities, driver.CapabilityEnroll) && b.Name != source {
			enrollers = append(enrollers, b.Name)
		}
	}
	if to != "" {
		i := slices.IndexFunc(backends, func(b client.Backend) bool { return b.Name == to })
		switch {
		case i < 0:
			return "", usagef("--to %s: no such backend; the API's backends are %s", to, strings.Join(all, ", "))
		case backends[i].Status == "down":
			return "", fmt.Errorf("backend %s is down: %s", to, backends[i].Reason)
		case !slices.Contains(backends[i].Capabilities, driver.CapabilityEnroll):
			return "", usagef("--to %s: backend %s (driver %s) cannot enroll machines; those that can: %s", to, to, backends[i].Driver, orNone(enrollers))
		}
		return to, nil
	}
	switch len(enrollers) {
	case 1:
		return enrollers[0], nil
	case 0:
		return "", usagef("no backend of the API can enroll machines (backends: %s): a target needs a driver with the enroll capability", orNone(all))
	}
	return "", usagef("give --to: several backends can enroll machines: %s", strings.Join(enrollers, ", "))
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// nameTemplate parses --name-template, or def when it is empty.
func nameTemplate(text, def string) (*template.Template, error) {
	if text == "" {
		text = def
	}
	tmpl, err := template.New("name").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, usagef("--name-template: %v", err)
	}
	return tmpl, nil
}

func execName(tmpl *template.Template, data map[string]any) (string, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// machineFields are a machine's fields for --name-template: each there,
// empty when the machine lacks it.
var machineFields = []string{"name", "driver", "resource_class", "deploy_interface", "image", "power_state", "owner", "lessee", "backend"}

// machineData is a machine for --name-template: its JSON form's scalar
// fields, and backend, the target.
func machineData(m driver.Machine, target string) map[string]any {
	data := map[string]any{}
	for _, k := range machineFields {
		data[k] = ""
	}
	for k, v := range map[string]string{"name": m.Name, "driver": m.Driver, "resource_class": m.ResourceClass, "deploy_interface": m.DeployInterface,
		"image": m.Image, "power_state": m.PowerState, "owner": m.Owner, "lessee": m.Lessee, "backend": target} {
		data[k] = v
	}
	data["driver_info"] = m.DriverInfo
	data["properties"] = m.Properties
	data["traits"] = m.Traits
	return data
}

// runMigrations runs items with progress and prints the outcome table.
func (a *app) runMigrations(ctx context.Context, c *client.Client, f migrateFlags, items []migrate.Item, noun string) error {
	work, stop, done := a.interruptible(ctx, "interrupted: starting no more migrations, following those running to their end (Ctrl-C again to stop following: they finish or roll back in the service)")
	defer done()
	verb := "migrating"
	if f.dryRun {
		verb = "checking"
	}
	progress := newProgress(a.env, len(items), verb)
	runner := migrate.Runner{
		API: c, Concurrency: f.concurrency, DryRun: f.dryRun, PollInterval: f.pollInterval,
		Done: func(r migrate.Result) { progress.step(noun+" "+r.Label, r.Outcome == migrate.Failed, migrationLine(r)) },
	}
	start := time.Now()
	results := runner.Run(work, stop, items)
	progress.finish()
	if format(f.out) == formatJSON {
		if err := writeJSON(a.env.Stdout, migrationResultsJSON(results)); err != nil {
			return err
		}
	} else {
		writeMigrationResults(a.env.Stdout, results)
	}
	outcomes := make([]string, len(results))
	failed := false
	for i, r := range results {
		outcomes[i] = string(r.Outcome)
		failed = failed || r.Outcome == migrate.Failed
	}
	order := make([]string, len(migrate.Outcomes))
	for i, o := range migrate.Outcomes {
		order[i] = string(o)
	}
	printf(a.env.Stderr, "%s in %.1fs\n", countOutcomes(outcomes, order, "machine", "machines", "no machines to migrate"), time.Since(start).Seconds())
	if failed {
		return errReported
	}
	return nil
}

func migrationLine(r migrate.Result) string {
	switch {
	case r.Outcome == migrate.Migrated && r.ServerUUID != "":
		return fmt.Sprintf("migrated as node %s, server %s", r.NodeUUID, r.ServerUUID)
	case r.Outcome == migrate.Migrated:
		return "migrated as node " + r.NodeUUID
	case r.Reason != "":
		return string(r.Outcome) + ": " + r.Reason
	}
	return string(r.Outcome)
}

// migrationResultJSON is one machine in -f json; absent values are null.
type migrationResultJSON struct {
	Machine       string         `json:"machine"`
	MigrationUUID *string        `json:"migration_uuid"`
	NodeUUID      *string        `json:"node_uuid"`
	ServerUUID    *string        `json:"server_uuid"`
	Outcome       string         `json:"outcome"`
	Reason        *string        `json:"reason"`
	RequestID     *string        `json:"request_id"`
	Plan          map[string]any `json:"plan,omitempty"`
}

func migrationResultsJSON(results []migrate.Result) []migrationResultJSON {
	out := make([]migrationResultJSON, len(results))
	for i, r := range results {
		out[i] = migrationResultJSON{Machine: r.Label, MigrationUUID: nullable(r.MigrationUUID), NodeUUID: nullable(r.NodeUUID),
			ServerUUID: nullable(r.ServerUUID), Outcome: string(r.Outcome), Reason: nullable(r.Reason), RequestID: nullable(r.RequestID), Plan: r.Plan}
	}
	return out
}

func writeMigrationResults(w interface{ Write([]byte) (int, error) }, results []migrate.Result) {
	rows := make([][]string, len(results))
	for i, r := range results {
		rows[i] = []string{r.Label, r.MigrationUUID, r.NodeUUID, r.ServerUUID, string(r.Outcome), r.Reason}
	}
	writeTable(w, []string{"Machine", "Migration", "Node UUID", "Server UUID", "Outcome", "Reason"}, rows)
}
