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
		if _, err := c.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Error(err)
		}
		var n int
		err = c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&n)
		c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s has %d tables, want the one created", dsn, n)
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?search_path=x&sslmode=disable"},
		{"postgresql://h/db?search_path=y", "postgresql://h/db?search_path=x"},
		{"mysql://h/db", ""},
	}
	for _, tt := range tests {
		got, err := withSearchPath(tt.dsn, "x")
		if tt.want == "" {
			if err == nil {
				t.Errorf("withSearchPath(%q) = %q, want an error", tt.dsn, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}
