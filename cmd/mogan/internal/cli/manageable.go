package cli

import (
	"github.com/spf13/cobra"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

func (a *app) manageableCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manageable",
		Short: "Bare metal nodes the API can adopt",
	}
	var (
		opts client.ListManageableOptions
		out  format
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List adoptable nodes (--all: every node, with why it cannot be adopted)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			nodes, err := c.ListManageable(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if out == formatJSON {
				return writeJSON(a.env.Stdout, nodes)
			}
			header := []string{"UUID", "Name", "Backend", "Resource Class", "Power State", "Provision State", "Image Source"}
			if opts.All {
				header = append(header, "Manageable", "Reason")
			}
			rows := make([][]string, len(nodes))
			for i, n := range nodes {
				rows[i] = []string{field(n, "uuid"), field(n, "name"), field(n, "backend"), field(n, "resource_class"),
					field(n, "power_state"), field(n, "provision_state"), field(n, "image_source")}
				if opts.All {
					rows[i] = append(rows[i], field(n, "manageable"), field(n, "reason"))
				}
			}
			writeTable(a.env.Stdout, header, rows)
			return nil
		},
	}
	list.Flags().BoolVar(&opts.All, "all", false, "also list nodes that cannot be adopted, with the reason")
	list.Flags().StringVar(&opts.ResourceClass, "resource-class", "", "only nodes of this resource class")
	list.Flags().StringVar(&opts.Backend, "backend", "", "only nodes of this backend (an API with several)")
	addFormatFlag(list, &out)
	cmd.AddCommand(list)
	return cmd
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// minArgs wants at least n positional arguments, named what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
