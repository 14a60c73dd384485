package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) serverCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Adopted servers: list, show, actions",
	}
	cmd.AddCommand(a.serverListCommand(), a.serverShowCommand(), a.serverActionsCommand())
	return cmd
}

func (a *app) serverListCommand() *cobra.Command {
	var (
		allTenants bool
		out        format
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List servers (your project's; --all-tenants: every project's, admin)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			servers, err := c.ListServers(cmd.Context(), allTenants)
			if err != nil {
				return err
			}
			if out == formatJSON {
				raw := make([]map[string]any, len(servers))
				for i, s := range servers {
					raw[i] = s.Raw
				}
				return writeJSON(a.env.Stdout, raw)
			}
			rows := make([][]string, len(servers))
			for i, s := range servers {
				rows[i] = []string{s.UUID, s.Name, s.Status, s.PowerState, s.Backend, s.NodeUUID, s.ProjectID}
			}
			writeTable(a.env.Stdout, []string{"UUID", "Name", "Status", "Power State", "Backend", "Node UUID", "Project"}, rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&allTenants, "all-tenants", false, "servers of every project (admin)")
	addFormatFlag(cmd, &out)
	return cmd
}

func (a *app) serverShowCommand() *cobra.Command {
	var out format
	cmd := &cobra.Command{
		Use:   "show SERVER_UUID",
		Short: "Show one server",
		Args:  exactArgs(1, "one SERVER_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			srv, err := c.GetServer(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if out == formatJSON {
				return writeJSON(a.env.Stdout, srv.Raw)
			}
			writeFields(a.env.Stdout, srv.Raw)
			return nil
		},
	}
	addFormatFlag(cmd, &out)
	return cmd
}

func (a *app) serverActionsCommand() *cobra.Command {
	var out format
	cmd := &cobra.Command{
		Use:   "actions SERVER_UUID [REQUEST_ID]",
		Short: "The audit trail of a server: who adopted or released it, when, and how it ended",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("%s needs a SERVER_UUID and optionally a REQUEST_ID", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) == 2 {
				action, err := c.GetAction(cmd.Context(), args[0], args[1])
				if err != nil {
					return err
				}
				if out == formatJSON {
					return writeJSON(a.env.Stdout, action)
				}
				writeFields(a.env.Stdout, action)
				return nil
			}
			actions, err := c.ListActions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if out == formatJSON {
				return writeJSON(a.env.Stdout, actions)
			}
			rows := make([][]string, len(actions))
			for i, ac := range actions {
				rows[i] = []string{field(ac, "action"), field(ac, "request_id"), field(ac, "user_id"), field(ac, "project_id"),
					field(ac, "start_time"), field(ac, "finish_time"), field(ac, "result"), field(ac, "message")}
			}
			writeTable(a.env.Stdout, []string{"Action", "Request ID", "User", "Project", "Start Time", "Finish Time", "Result", "Message"}, rows)
			return nil
		},
	}
	addFormatFlag(cmd, &out)
	return cmd
}

func (a *app) unmanageCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unmanage SERVER_UUID...",
		Short: "Release servers: the nodes are forgotten by the service, the machines keep running",
		Args:  minArgs(1, "at least one SERVER_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			failed := 0
			for _, id := range args {
				if err := c.Unmanage(cmd.Context(), id); err != nil {
					failed++
					printf(a.env.Stderr, "server %s: %v\n", id, err)
					continue
				}
				printf(a.env.Stdout, "server %s: unmanaged\n", id)
			}
			if failed > 0 {
				return errReported
			}
			return nil
		},
	}
}

// exactArgs wants n positional arguments, named what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
