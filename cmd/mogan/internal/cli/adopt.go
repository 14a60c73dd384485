package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/adopt"
	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

// adoptFlags are `mogan adopt`'s own flags.
type adoptFlags struct {
	all           bool
	resourceClass string
	backend       string
	nameTemplate  string
	description   string
	properties    []string
	project       string
	user          string
	concurrency   int
	dryRun        bool
	out           format
}

const defaultNameTemplate = "{{or .name .uuid}}"

func (a *app) adoptCommand() *cobra.Command {
	var f adoptFlags
	cmd := &cobra.Command{
		Use:   "adopt NODE_UUID... | --all [--resource-class X] [--backend B]",
		Short: "Adopt nodes as servers, several at a time, and say what became of each",
		Long: `Adopt nodes as servers, --concurrency at a time, with a progress bar on a
terminal (one line per node otherwise), then a table of every node: its
server, the outcome and the reason.

Outcomes: adopted; would adopt (--dry-run: every check made, nothing changed);
skipped (a server of this service already holds the node); failed (the API's
reason). A rerun after an interruption carries on: the nodes already held
are skipped. Ctrl-C starts no more adoptions and waits for those in flight
(a second Ctrl-C abandons them); the nodes not started are "failed" with
the reason "not started". Exit 0 when every node was adopted, would adopt
or was skipped; 1 when any failed; 2 on a usage error.

--backend adopts from that backend of an API with several (each request
names it, and with --all only its nodes are listed); without it the API
finds each node's backend, and refuses a node it finds in several.

--name-template is a Go template over the node as the API lists it:
{{.uuid}}, {{.name}}, {{.backend}}, {{.resource_class}}, {{.power_state}},
{{.image_source}}, ...`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.all && len(args) > 0:
				return usagef("give NODE_UUIDs or --all, not both")
			case !f.all && len(args) == 0:
				return usagef("give the NODE_UUIDs to adopt, or --all")
			case !f.all && f.resourceClass != "":
				return usagef("--resource-class selects nodes with --all")
			case f.concurrency < 1:
				return usagef("--concurrency must be at least 1, not %d", f.concurrency)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runAdopt(cmd.Context(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all", false, "adopt every adoptable node")
	fl.StringVar(&f.resourceClass, "resource-class", "", "with --all: only nodes of this resource class")
	fl.StringVar(&f.backend, "backend", "", "adopt from this backend (an API with several); default: wherever the API finds each node")
	fl.StringVar(&f.nameTemplate, "name-template", defaultNameTemplate, "the server's name: a Go template over the node")
	fl.StringVar(&f.description, "description", "", "the servers' description")
	fl.StringArrayVar(&f.properties, "property", nil, "metadata key=value for every server (repeatable)")
	fl.StringVar(&f.project, "project", "", "adopt into this project id (default: yours)")
	fl.StringVar(&f.user, "user", "", "the servers' user id (default: yours)")
	fl.IntVar(&f.concurrency, "concurrency", 8, "adoptions in flight at once")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check every node, change nothing")
	addFormatFlag(cmd, &f.out)
	return cmd
}

// properties parses --property k=v into metadata.
func parseProperties(props []string) (map[string]string, error) {
	if len(props) == 0 {
		return nil, nil
	}
	md := make(map[string]string, len(props))
	for _, p := range props {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--property %q: want key=value", p)
		}
		md[k] = v
	}
	return md, nil
}

func (a *app) runAdopt(ctx context.Context, f adoptFlags, args []string) error {
	metadata, err := parseProperties(f.properties)
	if err != nil {
		return err
	}
	tmpl, err := template.New("name").Option("missingkey=error").Parse(f.nameTemplate)
	if err != nil {
		return usagef("--name-template: %v", err)
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	nodes, err := a.nodesToAdopt(ctx, c, f, args)
	if err != nil {
		return err
	}

	work, stop, done := a.interruptible(ctx, "interrupted: starting no more adoptions, waiting for those in flight (Ctrl-C again to abandon them)")
	defer done()

	verb := "adopting"
	if f.dryRun {
		verb = "checking"
	}
	progress := newProgress(a.env, len(nodes), verb)
	runner := adopt.Runner{
		API:         c,
		Concurrency: f.concurrency,
		DryRun:      f.dryRun,
		Build: func(n client.Node) (client.ManageRequest, error) {
			var name bytes.Buffer
			if err := tmpl.Execute(&name, templateData(n)); err != nil {
				return client.ManageRequest{}, fmt.Errorf("--name-template: %w", err)
			}
			return client.ManageRequest{
				NodeUUID: client.NodeString(n, "uuid"), Name: name.String(), Description: f.description,
				Metadata: metadata, ProjectID: f.project, UserID: f.user, Backend: f.backend,
			}, nil
		},
		Done: progress.adopted,
	}
	start := time.Now()
	results, err := runner.Run(work, stop, nodes)
	progress.finish()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if f.out == formatJSON {
		if err := writeJSON(a.env.Stdout, resultsJSON(results)); err != nil {
			return err
		}
	} else {
		writeResults(a.env.Stdout, results)
	}
	printf(a.env.Stderr, "%s in %.1fs\n", summary(results), elapsed.Seconds())
	for _, r := range results {
		if r.Outcome == adopt.Failed {
			return errReported
		}
	}
	return nil
}

// nodesToAdopt lists the nodes: every adoptable one with --all, else the
// named ones (each as the API lists it, with all=true, so the name
// template sees its fields; a node the listing lacks has only its uuid,
// and the API will say why it cannot be adopted). --backend limits both
// listings to that backend.
func (a *app) nodesToAdopt(ctx context.Context, c *client.Client, f adoptFlags, args []string) ([]client.Node, error) {
	if f.all {
		return c.ListManageable(ctx, client.ListManageableOptions{ResourceClass: f.resourceClass, Backend: f.backend})
	}
	listed, err := c.ListManageable(ctx, client.ListManageableOptions{All: true, Backend: f.backend})
	if err != nil {
		return nil, err
	}
	byUUID := make(map[string]client.Node, len(listed))
	for _, n := range listed {
		// A node listed by two backends (the API then asks for
		// --backend) keeps the first one's fields.
		if id := client.NodeString(n, "uuid"); byUUID[id] == nil {
			byUUID[id] = n
		}
	}
	seen := make(map[string]bool, len(args))
	nodes := make([]client.Node, 0, len(args))
	for _, id := range args {
		if seen[id] {
			continue
		}
		seen[id] = true
		n, ok := byUUID[id]
		if !ok {
			n = client.Node{"uuid": id}
			if f.backend != "" {
				n["backend"] = f.backend
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// summary counts the outcomes: "200 nodes: 198 adopted, 2 failed".
func summary(results []adopt.Result) string {
	outcomes := make([]string, len(results))
	for i, r := range results {
		outcomes[i] = string(r.Outcome)
	}
	return countOutcomes(outcomes, []string{string(adopt.Adopted), string(adopt.WouldAdopt), string(adopt.Skipped), string(adopt.Failed)},
		"node", "nodes", "no nodes to adopt")
}

// countOutcomes says how many of each outcome, in order's order: "3
// nodes: 1 adopted, 2 failed" (one, many: the noun; none: what to say
// when there is nothing).
func countOutcomes(outcomes, order []string, one, many, none string) string {
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o]++
	}
	var parts []string
	for _, o := range order {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	if len(parts) == 0 {
		return none
	}
	noun := many
	if len(outcomes) == 1 {
		noun = one
	}
	return fmt.Sprintf("%d %s: %s", len(outcomes), noun, strings.Join(parts, ", "))
}

// resultJSON is one node in -f json: exactly these four keys; server_uuid
// and reason are null when there is none.
type resultJSON struct {
	NodeUUID   string  `json:"node_uuid"`
	ServerUUID *string `json:"server_uuid"`
	Outcome    string  `json:"outcome"`
	Reason     *string `json:"reason"`
}

func resultsJSON(results []adopt.Result) []resultJSON {
	out := make([]resultJSON, len(results))
	for i, r := range results {
		out[i] = resultJSON{NodeUUID: r.NodeUUID, ServerUUID: nullable(r.ServerUUID), Outcome: string(r.Outcome), Reason: nullable(r.Reason)}
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeResults(w interface{ Write([]byte) (int, error) }, results []adopt.Result) {
	rows := make([][]string, len(results))
	for i, r := range results {
		rows[i] = []string{r.NodeUUID, r.ServerUUID, string(r.Outcome), r.Reason}
	}
	writeTable(w, []string{"Node", "Server UUID", "Outcome", "Reason"}, rows)
}

// nodeFields are the listing's fields: a node the listing lacked (only its
// uuid is known) has them all the same, empty, for --name-template.
var nodeFields = []string{"uuid", "name", "backend", "resource_class", "power_state", "provision_state", "image_source"}

// templateData is the node for --name-template: a null or absent field
// reads as "" (text/template would print "<no value>"), so {{.name}} of
// an unnamed node is empty and {{or .name .uuid}} falls back. A key that
// is no field of the node (a typo) fails the node, naming it.
func templateData(n client.Node) map[string]any {
	data := make(map[string]any, len(n)+len(nodeFields))
	for _, k := range nodeFields {
		data[k] = ""
	}
	for k, v := range n {
		if v == nil {
			v = ""
		}
		data[k] = v
	}
	return data
}
