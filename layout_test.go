package courier_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/courierhq/courier"

// TestImportRules checks the dependency graph of ARCHITECTURE.md with
// `go list -deps`, so the prose rules cannot drift from the code.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps,Standard", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Deps       []string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	ours := func(dep string) bool { return dep == module || strings.HasPrefix(dep, module+"/") }
	std := func(dep string) bool { return !strings.Contains(strings.Split(dep, "/")[0], ".") }
	rel := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

	for _, test := range []struct {
		name   string
		match  func(pkg string) bool
		forbid func(dep string) bool
	}{
		{"the root imports only the standard library", func(p string) bool { return p == "" },
			func(d string) bool { return !std(d) }},
		{"routing imports only the standard library (and its own subpackages)", func(p string) bool { return under(p, "routing") },
			func(d string) bool { return !std(d) && !(ours(d) && under(rel(d), "routing")) }},
		{"domain packages never import gin, net/http, database/sql, redis or the store", func(p string) bool {
			return under(p, "dispatch") || under(p, "cashdesk")
		}, func(d string) bool {
			return d == "net/http" || d == "database/sql" || strings.Contains(d, "gin-gonic") || strings.Contains(d, "go-redis") ||
				(ours(d) && (under(rel(d), "store") || under(rel(d), "api")))
		}},
		{"api never imports the store", func(p string) bool { return under(p, "api") },
			func(d string) bool { return ours(d) && under(rel(d), "store") }},
		{"store never imports dispatch, cashdesk or api", func(p string) bool { return under(p, "store") && !strings.HasSuffix(p, "storetest") },
			func(d string) bool {
				return ours(d) && (under(rel(d), "dispatch") || under(rel(d), "cashdesk") || under(rel(d), "api"))
			}},
		{"vrpsolve uses only routing of ours", func(p string) bool { return p == "cmd/vrpsolve" },
			func(d string) bool { return ours(d) && !under(rel(d), "routing") }},
	} {
		checked := 0
		for _, p := range pkgs {
			if !test.match(rel(p.ImportPath)) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if test.forbid(d) {
					t.Errorf("%s: %s imports %s", test.name, p.ImportPath, d)
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no package matched", test.name)
		}
	}
}
