// Package adopt runs many adoptions at once through the API and says, for
// each node, what became of it: adopted, would adopt (a dry run), skipped
// (a server of this service already holds it) or failed (with the API's
// reason). It is what makes `mogan adopt --all` safe to rerun after an
// interruption: nodes already held are skipped, the rest carried on.
package adopt
