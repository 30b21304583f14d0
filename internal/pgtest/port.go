package pgtest

import (
	"fmt"
	"net"
)

// pickPort is freePort; a test replaces it to hand out a taken port.
var pickPort = freePort

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago. Another process may take it before the server binds it:
// StartServer then picks another (see portTaken).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	return port, nil
}
