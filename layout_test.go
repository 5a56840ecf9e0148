package courier_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/courierhq/courier"

// TestImportRules checks the dependency graph of docs/ARCHITECTURE.md with
// `go list -deps`, so the prose rules cannot drift from the code.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string // direct
		Deps       []string // transitive
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

	// Rules on a package's own imports: a package may use another that is allowed
	// to import more (dispatch uses geo, which uses Redis). The standard-library-only
	// rules look at every transitive dependency.
	for _, test := range []struct {
		name       string
		match      func(pkg string) bool
		forbid     func(dep string) bool
		transitive bool
	}{
		{"the root imports only the standard library", func(p string) bool { return p == "" },
			func(d string) bool { return !std(d) }, true},
		{"routing imports only the standard library (and its own subpackages)", func(p string) bool { return under(p, "routing") },
			func(d string) bool { return !std(d) && !(ours(d) && under(rel(d), "routing")) }, true},
		{"domain packages never import gin, net/http, database/sql, redis or the store", func(p string) bool {
			return under(p, "dispatch") || under(p, "cashdesk") || under(p, "reports")
		}, func(d string) bool {
			return d == "net/http" || d == "database/sql" || strings.Contains(d, "gin-gonic") || strings.Contains(d, "go-redis") ||
				(ours(d) && (under(rel(d), "store") || under(rel(d), "api")))
		}, false},
		{"api never imports the store", func(p string) bool { return under(p, "api") },
			func(d string) bool { return ours(d) && under(rel(d), "store") }, false},
		{"store never imports dispatch, cashdesk or api", func(p string) bool { return under(p, "store") && !strings.HasSuffix(p, "storetest") },
			func(d string) bool {
				return ours(d) && (under(rel(d), "dispatch") || under(rel(d), "cashdesk") || under(rel(d), "api"))
			}, false},
		{"vrpsolve uses only routing of ours", func(p string) bool { return p == "cmd/vrpsolve" },
			func(d string) bool { return ours(d) && !under(rel(d), "routing") }, true},
		{"only notify/fcm and cmd/courierd import the Firebase SDK", func(p string) bool { return p != "notify/fcm" && p != "cmd/courierd" },
			func(d string) bool { return strings.HasPrefix(d, "firebase.google.com/") }, false},
		{"notify does not pull in the Firebase SDK (notify/fcm does)", func(p string) bool { return p == "notify" },
			func(d string) bool { return strings.HasPrefix(d, "firebase.google.com/") }, true},
		{"notify uses the root and geo of ours", func(p string) bool { return under(p, "notify") },
			func(d string) bool {
				return ours(d) && d != module && !under(rel(d), "geo") && !under(rel(d), "notify")
			}, false},
		{"geo uses only the root of ours", func(p string) bool { return under(p, "geo") },
			func(d string) bool { return ours(d) && d != module }, false},
	} {
		checked := 0
		for _, p := range pkgs {
			if !test.match(rel(p.ImportPath)) {
				continue
			}
			checked++
			deps := p.Imports
			if test.transitive {
				deps = p.Deps
			}
			for _, d := range deps {
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
