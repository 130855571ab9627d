package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestStart(t *testing.T) {
	ctx := context.Background()
	dsn1, dsn2 := Start(t), Start(t)
	if dsn1 == dsn2 {
		t.Fatalf("Start returned %s twice", dsn1)
	}
	for _, dsn := range []string{dsn1, dsn2} {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n)
		c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s has %d tables, want none", dsn, n)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"postgresql://h", "postgresql://h/x"},
		{"mysql://h/db", ""},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.dsn, "x")
		if tt.want == "" {
			if err == nil {
				t.Errorf("withDatabase(%q) = %q, want an error", tt.dsn, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}
