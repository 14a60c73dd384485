package cli

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

func (a *app) migrationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migration",
		Short: "Migrations: list, show, retry a failed adoption step, cancel",
	}
	cmd.AddCommand(a.migrationListCommand(), a.migrationShowCommand(), a.migrationRetryCommand(), a.migrationCancelCommand())
	return cmd
}

func (a *app) migrationListCommand() *cobra.Command {
	var (
		opts client.ListMigrationsOptions
		out  format
	)
	cmd := &cobra.Command{
		Use:   "list [--status S] [--limit N]",
		Short: "List migrations, newest first",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := noArgs(cmd, args); err != nil {
				return err
			}
			if opts.Status != "" && !slices.Contains(client.MigrationStatuses, opts.Status) {
				return usagef("--status must be one of %s, not %q", strings.Join(client.MigrationStatuses, ", "), opts.Status)
			}
			if opts.Limit < 0 {
				return usagef("--limit must not be negative")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := c.ListMigrations(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if out == formatJSON {
				raw := make([]map[string]any, len(ms))
				for i, m := range ms {
					raw[i] = m.Raw
				}
				return writeJSON(a.env.Stdout, raw)
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				rows[i] = []string{m.UUID, m.Status, describeEnd(m.Raw["source"]), describeEnd(m.Raw["target"]), m.NodeUUID, m.ServerUUID,
					field(m.Raw, "created_at"), field(m.Raw, "updated_at")}
			}
			writeTable(a.env.Stdout, []string{"UUID", "Status", "Source", "Target", "Node UUID", "Server UUID", "Created At", "Updated At"}, rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Status, "status", "", "only migrations in this status: "+strings.Join(client.MigrationStatuses, ", "))
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "at most this many (default: every one)")
	addFormatFlag(cmd, &out)
	return cmd
}

// describeEnd is a migration's source or target in a table cell:
// "machine db-01", "east node <uuid>", "west".
func describeEnd(v any) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return cell(v)
	}
	if m, ok := obj["machine"].(map[string]any); ok {
		if name, _ := m["name"].(string); name != "" {
			return "machine " + name
		}
		return "a machine"
	}
	parts := []string{}
	if b, _ := obj["backend"].(string); b != "" {
		parts = append(parts, b)
	}
	if n, _ := obj["node_uuid"].(string); n != "" {
		parts = append(parts, "node "+n)
	}
	if len(parts) == 0 {
		return cell(v)
	}
	return strings.Join(parts, " ")
}

func (a *app) migrationShowCommand() *cobra.Command {
	var out format
	cmd := &cobra.Command{
		Use:   "show MIGRATION_UUID",
		Short: "Show a migration and its steps",
		Args:  exactArgs(1, "one MIGRATION_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showMigration(cmd.Context(), out, func(c *client.Client) (client.Migration, error) {
				return c.GetMigration(cmd.Context(), args[0])
			})
		},
	}
	addFormatFlag(cmd, &out)
	return cmd
}

func (a *app) migrationRetryCommand() *cobra.Command {
	var out format
	cmd := &cobra.Command{
		Use:   "retry MIGRATION_UUID",
		Short: "Retry a failed migration's adoption step (the machine is in the target, untouched)",
		Args:  exactArgs(1, "one MIGRATION_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showMigration(cmd.Context(), out, func(c *client.Client) (client.Migration, error) {
				return c.RetryMigration(cmd.Context(), args[0])
			})
		},
	}
	addFormatFlag(cmd, &out)
	return cmd
}

func (a *app) migrationCancelCommand() *cobra.Command {
	var out format
	cmd := &cobra.Command{
		Use:   "cancel MIGRATION_UUID",
		Short: "Cancel a migration: it rolls back, unless it is past the point of no return (then 409)",
		Args:  exactArgs(1, "one MIGRATION_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showMigration(cmd.Context(), out, func(c *client.Client) (client.Migration, error) {
				return c.CancelMigration(cmd.Context(), args[0])
			})
		},
	}
	addFormatFlag(cmd, &out)
	return cmd
}

// showMigration prints the migration get returns: its fields, then its
// steps; or the JSON the API sent.
func (a *app) showMigration(ctx context.Context, out format, get func(*client.Client) (client.Migration, error)) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	m, err := get(c)
	if err != nil {
		return err
	}
	if out == formatJSON {
		return writeJSON(a.env.Stdout, m.Raw)
	}
	fields := make(map[string]any, len(m.Raw))
	for k, v := range m.Raw {
		if k != "steps" {
			fields[k] = v
		}
	}
	writeFields(a.env.Stdout, fields)
	if len(m.Steps) > 0 {
		rows := make([][]string, len(m.Steps))
		for i, s := range m.Steps {
			rows[i] = []string{s.Name, s.Status, s.StartedAt, s.FinishedAt, s.Error}
		}
		writeTable(a.env.Stdout, []string{"Step", "Status", "Started At", "Finished At", "Error"}, rows)
	}
	return nil
}
