// Package ironicbench measures the Ironic driver's listing against a real
// standalone Ironic with its default page size: how many upstream requests
// a listing of N nodes makes, and how its time compares with the best
// direct fetch of the same data. It is a harness (it starts Ironic and
// mogan-api), so it lives under testenv/ and never ships. Besides tests
// and benchmarks it holds RawFetch and RawFetchEnriched (the yardstick)
// and StartHost, which testenv/cmd/bench-ironic uses to run the host side
// by side with the raw fetch (`make bench-ironic`).
//
//	go test ./testenv/ironicbench/                                   # N = 30
//	IRONIC_BENCH_NODES=1000 go test -run Count -bench . -benchtime 5x ./testenv/ironicbench/
//	IRONIC_BENCH_BULK=1 IRONIC_BENCH_NODES=10000 go test -run '^$' -bench 'List/driver' \
//	    -benchtime 3x -cpuprofile cpu.out ./testenv/ironicbench/   # bulk-loaded; profile the driver
package ironicbench
