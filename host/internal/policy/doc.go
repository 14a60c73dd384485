// Package policy decides whether a caller may perform an API action, with
// oslo.policy's rule language and upstream Mogan's rule names and defaults,
// overridable by an operator's policy file (YAML or JSON, as oslo.policy
// reads it).
//
// The language is the subset oslo.policy rules use in practice:
//
//	@                        always allowed ("" and [] mean the same)
//	!                        never allowed
//	role:admin               the caller has that role (case-insensitive)
//	rule:admin_api           another rule's result
//	is_admin:True            a credential compared with a literal
//	project_id:%(project_id)s a credential compared with a target field
//	'literal':%(field)s      a literal compared with a target field
//	not X, X and Y, X or Y, ( ... )   not binds tightest, then and, then or
//
// Credentials are user_id, user_name, user_domain_id, project_id,
// project_name, roles and is_admin ("True" when the caller passes the rule
// "is_admin"). Unlike oslo.policy, an empty credential never matches, so a
// caller without a project never "owns" a record without one. HTTP checks
// (http:, https:) are not supported: they are refused when the policy is
// loaded, as are unknown syntax, references to undefined rules and cycles.
package policy
