package sqlite_test

import (
	"testing"

	"github.com/gradpath/gradpath/internal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.OpenSQLite)
}
