// Package ironicbench measures the Ironic driver's listing against a real
// standalone Ironic with its default page size: how many upstream requests
// a listing of N nodes makes, and how its time compares with the best
// direct fetch of the same data (RawFetch, also used by cmd/bench-ironic,
// which runs the host side by side with it: `make bench-ironic`). Besides
// RawFetch it holds tests and benchmarks only.
//
//	go test ./plugins/ironic/ironicbench/                                   # N = 30
//	IRONIC_BENCH_NODES=1000 go test -run Count -bench . -benchtime 5x ./plugins/ironic/ironicbench/
//	IRONIC_BENCH_BULK=1 IRONIC_BENCH_NODES=10000 go test -run '^$' -bench 'List/driver' \
//	    -benchtime 3x -cpuprofile cpu.out ./plugins/ironic/ironicbench/   # bulk-loaded; profile the driver
package ironicbench
