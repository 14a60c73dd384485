// Package e2e tests the built binaries together, as an operator runs them:
// bin/mogan-api started with a configuration file, driver plugins as real
// processes, HTTP from outside. Its helpers build the binaries once per
// test run (TestMain) and start and stop hosts.
package e2e
