package pgtest

import (
	"net"
	"testing"
)

// TestTakenPortIsReplaced hands StartServer a port that another socket
// listens on: the server must fail to bind it and move to another.
func TestTakenPortIsReplaced(t *testing.T) {
	// Not parallel: it replaces pickPort.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ln.Close(); err != nil {
			t.Error(err)
		}
	}()
	taken := ln.Addr().(*net.TCPAddr).Port
	picks := 0
	pickPort = func() (int, error) {
		picks++
		if picks == 1 {
			return taken, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = freePort })

	srv, err := StartServer(t.Context(), Config{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	if srv.Port() == taken || picks != 2 {
		t.Fatalf("the server is on port %d after %d picks; port %d was taken", srv.Port(), picks, taken)
	}
}
