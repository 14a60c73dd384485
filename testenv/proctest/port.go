package proctest

import "net"

// FreePort is a loopback TCP port nobody listens on now, for a process a
// test is about to start (another process may take it first: tests that
// start many processes retry on "address in use").
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil //nolint:forcetypeassert // a TCP listener
}
