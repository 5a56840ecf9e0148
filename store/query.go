package store

import (
	"context"
	"fmt"
	"strings"
)

// rowScanner is what the scan functions read: a *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// queryAll runs query on q and reads every row with scan. The list is empty,
// never nil, when nothing matches (it encodes as [] in JSON). what names the
// query in errors: "store: <what>: ...".
func queryAll[T any](ctx context.Context, q querier, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return list, nil
}

// conds collects the conditions of a list query and their arguments,
// numbered $1, $2, ... in the order they are added.
type conds struct {
	where []string
	args  []any
}

// arg adds v as the next argument and returns its placeholder.
func (c *conds) arg(v any) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d", len(c.args))
}

// add adds a condition; all of them must hold.
func (c *conds) add(cond string) { c.where = append(c.where, cond) }

// sql is the WHERE clause, with its leading space, or "" without conditions.
func (c *conds) sql() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

// pageLimit is a list's page size: DefaultLimit for 0 or less, at most MaxLimit.
func pageLimit(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return min(limit, MaxLimit)
}
