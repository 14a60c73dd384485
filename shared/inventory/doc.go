// Package inventory reads, checks and writes the machine descriptions of
// a migration (DESIGN, "Migration"): an inventory file of machines in
// YAML, JSON or CSV, checked against one JSON Schema (machine.schema.json)
// and the rules no schema can say, and the secrets file that supplies the
// driver_info fields an inventory only names. The CLI reads inventories
// with it and the API checks a request's machine with it, so both refuse
// the same machine with the same words. No error and no String of this
// package ever holds a secret's value.
package inventory
