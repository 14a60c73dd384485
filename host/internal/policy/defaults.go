package policy

// Rule names the API authorizes. The first group is upstream Mogan's
// (mogan/common/policy.py, or the controllers' authorize_wsgi names);
// the rest are this project's additions, named in the same style.
const (
	ManageableServersGetAll = "mogan:manageable_servers:get_all"
	ManageableServersCreate = "mogan:manageable_servers:create"
	ServerGet               = "mogan:server:get"

	ServerGetAll        = "mogan:server:get_all"
	ServerGetAllTenants = "mogan:server:get_all_tenants"
	ServerUnmanage      = "mogan:server:unmanage"
	// ServerActionsGet reads a server's audit trail. Its target carries
	// the server's project_id only while the server is live: a released or
	// rolled-back server uuid has no owner, so only an admin passes.
	ServerActionsGet = "mogan:server:actions:get"
	// BackendsGetAll lists the host's backends and their state.
	BackendsGetAll = "mogan:backend:get_all"
	// MigrationCreate starts a migration (or its dry run) and retries a
	// failed one; MigrationGet lists and shows migrations and exports a
	// source backend's node; MigrationDelete cancels one.
	MigrationCreate = "mogan:migration:create"
	MigrationGet    = "mogan:migration:get"
	MigrationDelete = "mogan:migration:delete"
)

// Default is one rule as the code defines it; a policy file may override it.
type Default struct {
	Name, Check, Description string
}

// Defaults returns the rules in force when no policy file overrides them:
// upstream Mogan's base rules with its defaults, and the API's rules.
func Defaults() []Default {
	return []Default{
		// Upstream Mogan's base rules, verbatim.
		{"admin_api", "role:admin or role:administrator", "Legacy rule for cloud admin access"},
		{"public_api", "is_public_api:True", "Internal flag for public API routes"},
		{"show_server_secrets", "!", "Show or mask secrets within server information in API responses"},
		{"allow", "@", "any access will be passed"},
		{"deny", "!", "all access will be forbidden"},
		{"is_admin", "rule:admin_api", "Full read/write API access"},
		{"admin_or_owner", "is_admin:True or project_id:%(project_id)s", "Admin or owner API access"},
		{"admin_or_user", "is_admin:True or user_id:%(user_id)s", "Admin or user API access"},
		{"default", "rule:admin_or_owner", "Default API access rule"},

		// Upstream: get_all is registered with rule:admin_api; create is
		// authorized by upstream's controller but never registered (so it
		// fell to "default"); the spec makes it admin only.
		{ManageableServersGetAll, "rule:admin_api", "Get adoptable nodes from driver"},
		{ManageableServersCreate, "rule:admin_api", "Manage an existing bare metal node as a server"},
		{ServerGet, "rule:default", "Retrieve Server records"},

		// This project's additions.
		{ServerGetAll, "rule:default", "List the servers of the caller's project"},
		{ServerGetAllTenants, "rule:admin_api", "List the servers of every project (all_tenants)"},
		{ServerUnmanage, "rule:admin_api", "Release a managed server without touching the machine"},
		{ServerActionsGet, "rule:default", "List or show a server's actions (admin or owner of a live server; admin only once it is released)"},
		{BackendsGetAll, "rule:admin_api", "List the host's backends, their drivers and whether they answer"},
		{MigrationCreate, "rule:admin_api", "Migrate a running machine into a backend (or dry-run it), or retry a failed migration's adoption"},
		{MigrationGet, "rule:admin_api", "List or show migrations, or export a source backend's node as a machine"},
		{MigrationDelete, "rule:admin_api", "Cancel a migration that has not recorded its commit (it rolls back)"},
	}
}
