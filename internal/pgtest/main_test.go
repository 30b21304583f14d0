package pgtest_test

import (
	"testing"

	"github.com/durablelog/eventstore/internal/pgtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(pgtest.Main(m))
}
