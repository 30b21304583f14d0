package logstore

import (
	"context"
	"errors"
	"testing"
)

type nopOpener struct{}

func (nopOpener) OpenLog(context.Context, OpenOptions) (Log, error) {
	return nil, errors.New("nop")
}

// TestRegister: a registered opener is found and listed; an empty name, a
// nil opener and a second registration under a name panic.
func TestRegister(t *testing.T) {
	Register("cover-test-log", nopOpener{})
	if _, ok := Lookup("cover-test-log"); !ok {
		t.Fatal("the registered opener is not found")
	}
	found := false
	for _, n := range Names() {
		found = found || n == "cover-test-log"
	}
	if !found {
		t.Fatalf("Names() = %v lacks the registered name", Names())
	}
	for name, f := range map[string]func(){
		"empty name": func() { Register("", nopOpener{}) },
		"nil opener": func() { Register("cover-test-nil", nil) },
		"twice":      func() { Register("cover-test-log", nopOpener{}) },
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
	if _, ok := Lookup("cover-test-nil"); ok {
		t.Error("a nil opener was registered")
	}
}

// TestCorruptionErrorWhere: the location is the key, else the file, else the
// offset, else unknown; the error unwraps to its cause.
func TestCorruptionErrorWhere(t *testing.T) {
	cause := errors.New("bad")
	for _, c := range []struct {
		e    CorruptionError
		want string
	}{
		{CorruptionError{Key: "k", File: "f", Offset: 3, Err: cause}, "k: bad"},
		{CorruptionError{File: "f", Offset: 3, Err: cause}, "f: bad"},
		{CorruptionError{Offset: 3, Err: cause}, "log offset 3: bad"},
		{CorruptionError{Err: cause}, "unknown location: bad"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if !errors.Is(&c.e, cause) {
			t.Errorf("%q does not unwrap to its cause", c.want)
		}
	}
}

// TestExpectedVersionString names the special expected versions.
func TestExpectedVersionString(t *testing.T) {
	for v, want := range map[ExpectedVersion]string{Any: "any", StreamExists: "an existing stream", NoStream: "no stream (0)", 7: "7"} {
		if got := v.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(v), got, want)
		}
	}
}
