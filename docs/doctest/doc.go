// Package doctest keeps the docs true: its tests run the shell blocks of
// docs/operator.md against a real standalone cloud (Keystone, Ironic,
// Glance, Neutron), and a second one (Keystone, Ironic, Neutron) whose
// running machines the guide moves, with freshly built binaries; check
// that the code the docs quote is the code in the tree, and that the
// README's layout table names every top-level directory and package.
//
// Blocks are fenced Markdown code blocks. Every ```sh block of a checked
// document runs, in order, in one bash process (set -euo pipefail), so a
// variable set in one block is there in the next; other languages are
// never run. HTML comments on the lines just before a fence (invisible
// when the document is rendered) say more about it:
//
//	<!-- doctest: skip (needs systemd as PID 1) -->   not run; the reason is required
//	<!-- doctest: expect "HTTP 201" -->                the block's output must contain it
//	<!-- doctest: same-as etc/systemd/mogan-api.service -->   the block is that file, verbatim
//	<!-- doctest: excerpt-of shared/driver/driver.go -->      the file contains the block
//
// A comment that starts with "doctest:" but is none of these, or that no
// fence follows, fails the test: a typo never silently turns a check off.
// The tests map the absolute paths an operator uses (/etc/mogan,
// /var/lib/mogan, /usr/local/bin) into a temporary directory (Rewrite),
// so that nothing outside it is touched.
package doctest
