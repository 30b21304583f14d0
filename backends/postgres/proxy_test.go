package postgres_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// pgProxy forwards TCP connections to a PostgreSQL server and reads the
// messages that pass, so that a test can break a connection at a chosen
// statement, or cut every connection and refuse new ones for a while. It
// speaks only the plain protocol (sslmode=disable).
type pgProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	trap   *trap
	refuse bool
	conns  map[*proxyConn]struct{}
}

// When a trap breaks the connection.
type trapWhen int

const (
	// dropBefore closes the connection instead of forwarding the
	// statement: the server never runs it.
	dropBefore trapWhen = iota
	// dropAfter forwards the statement, lets the server answer it, and
	// closes the connection instead of forwarding the answer: the server
	// ran it, the client does not know.
	dropAfter
)

// trap breaks the first connection that sends a simple query that starts
// with query ("begin" also catches "begin isolation level ...").
type trap struct {
	query string
	when  trapWhen
	fired chan struct{}
}

// proxyConn is one forwarded connection.
type proxyConn struct {
	client, server net.Conn
	once           sync.Once
	mu             sync.Mutex
	swallow        *trap // set once a dropAfter statement was forwarded
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		_ = c.client.Close()
		_ = c.server.Close()
	})
}

// startProxy starts a proxy to the server of env, stopped when the test
// ends.
func startProxy(t *testing.T, env pgEnv) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &pgProxy{t: t, ln: ln, target: fmt.Sprintf("127.0.0.1:%d", env.srv.Port()), conns: map[*proxyConn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// dsn is a DSN for the database of env through the proxy.
func (p *pgProxy) dsn(env pgEnv) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", p.ln.Addr(), env.db)
}

// arm sets a trap for the next connection that sends query ("commit",
// "begin"); the channel is closed when it fired.
func (p *pgProxy) arm(query string, when trapWhen) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trap = &trap{query: query, when: when, fired: make(chan struct{})}
	return p.trap.fired
}

// take returns the armed trap that a query springs, and disarms it.
func (p *pgProxy) take(query string) *trap {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trap == nil || !strings.HasPrefix(strings.ToLower(query), p.trap.query) {
		return nil
	}
	tr := p.trap
	p.trap = nil
	return tr
}

// cut closes every connection and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = true
	for c := range p.conns {
		c.close()
	}
}

// restore accepts connections again.
func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = false
}

// serverPorts returns the local ports of the proxy's connections to the
// server: the client_port of their backends in pg_stat_activity.
func (p *pgProxy) serverPorts() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int32
	for c := range p.conns {
		out = append(out, int32(c.server.LocalAddr().(*net.TCPAddr).Port))
	}
	return out
}

func (p *pgProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			_ = client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() {
			p.fromClient(c)
			c.close()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		})
		p.wg.Go(func() {
			p.fromServer(c)
			c.close()
		})
	}
}

// fromClient forwards the client's startup message, then its messages,
// springing the trap when one matches.
func (p *pgProxy) fromClient(c *proxyConn) {
	var head [4]byte
	if _, err := io.ReadFull(c.client, head[:]); err != nil {
		return
	}
	body := make([]byte, binary.BigEndian.Uint32(head[:])-4)
	if _, err := io.ReadFull(c.client, body); err != nil {
		return
	}
	if _, err := c.server.Write(append(head[:], body...)); err != nil {
		return
	}
	for {
		msg, err := readMessage(c.client)
		if err != nil {
			return
		}
		if msg[0] == 'Q' {
			if tr := p.take(string(bytes.TrimRight(msg[5:], "\x00"))); tr != nil {
				if tr.when == dropBefore {
					close(tr.fired)
					c.close()
					return
				}
				c.mu.Lock()
				c.swallow = tr
				c.mu.Unlock()
			}
		}
		if _, err := c.server.Write(msg); err != nil {
			return
		}
	}
}

// fromServer forwards the server's messages; after a dropAfter statement
// it drops them up to ReadyForQuery and closes the connection.
func (p *pgProxy) fromServer(c *proxyConn) {
	for {
		msg, err := readMessage(c.server)
		if err != nil {
			return
		}
		c.mu.Lock()
		tr := c.swallow
		c.mu.Unlock()
		if tr != nil {
			if msg[0] == 'Z' {
				close(tr.fired)
				c.close()
				return
			}
			continue
		}
		if _, err := c.client.Write(msg); err != nil {
			return
		}
	}
}

// readMessage reads one message: its type byte, length and body.
func readMessage(r io.Reader) ([]byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n < 4 || n > 1<<30 {
		return nil, errors.New("proxy: bad message length")
	}
	msg := make([]byte, 5+n-4)
	copy(msg, head[:])
	_, err := io.ReadFull(r, msg[5:])
	return msg, err
}
