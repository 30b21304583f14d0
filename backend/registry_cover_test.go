package backend

import (
	"errors"
	"testing"
)

type nopEngine struct{}

func (nopEngine) Open(string, Options) (KV, error) { return nil, errors.New("nop") }

// TestRegister: a registered engine is found; an empty name, a nil engine
// and a second registration under a name panic; an unknown name is
// ErrUnknownBackend.
func TestRegister(t *testing.T) {
	Register("cover-test-engine", nopEngine{})
	if _, err := Lookup("cover-test-engine"); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"empty name": func() { Register("", nopEngine{}) },
		"nil engine": func() { Register("cover-test-nil", nil) },
		"twice":      func() { Register("cover-test-engine", nopEngine{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f()
		}()
	}
	if _, err := Lookup("cover-test-nil"); !errors.Is(err, ErrUnknownBackend) {
		t.Errorf("Lookup of an unregistered name: %v", err)
	}
}
