package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
)

// shared holds the blocks every layout may use: "head" (the document's
// start, up to the page's title) and "logout" (the log-out form).
//
//go:embed templates/*.html
var shared embed.FS

// Funcs are the template funcs every page has; a package's own are added
// over them.
var Funcs = template.FuncMap{
	// dict passes several values to a block: (dict "Page" . "Block" $b).
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
}

// PageSet says where a package's page templates are.
type PageSet struct {
	Name   string           // the package, for errors and logs: "inbox"
	FS     fs.FS            // its embedded files
	Funcs  template.FuncMap // its own funcs, over Funcs
	Common []string         // files every page includes: its layout, blocks pages share
	Pages  []string         // page names: templates/NAME.html, each defining "content"
	Logger *slog.Logger     // nil: slog.Default()
}

// Pages are a package's page templates, parsed once.
type Pages struct {
	name string
	log  *slog.Logger
	set  map[string]*template.Template
}

// Parse parses every page of the set, each with the shared blocks and the
// common files. A broken template fails here, at start-up, never on a
// request.
func (ps PageSet) Parse() (*Pages, error) {
	funcs := template.FuncMap{}
	for k, f := range Funcs {
		funcs[k] = f
	}
	for k, f := range ps.Funcs {
		funcs[k] = f
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(shared, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: shared templates: %w", err)
	}
	if len(ps.Common) > 0 {
		if base, err = base.ParseFS(ps.FS, ps.Common...); err != nil {
			return nil, fmt.Errorf("%s: parse %s: %w", ps.Name, strings.Join(ps.Common, ", "), err)
		}
	}
	p := &Pages{name: ps.Name, log: ps.Logger, set: map[string]*template.Template{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	for _, name := range ps.Pages {
		t, err := template.Must(base.Clone()).ParseFS(ps.FS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("%s: parse %s: %w", ps.Name, name, err)
		}
		p.set[name] = t
	}
	return p, nil
}

// Render executes a page's "layout" into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) {
	p.execute(w, status, name, "layout", data)
}

// Fragment executes one block of a page alone (a live list's rows), with
// status 200.
func (p *Pages) Fragment(w http.ResponseWriter, page, block string, data any) {
	p.execute(w, 0, page, block, data)
}

func (p *Pages) execute(w http.ResponseWriter, status int, page, block string, data any) {
	t, ok := p.set[page]
	if !ok {
		panic(p.name + ": no page " + page) // a programming error: the names are constants
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		p.log.Error(p.name+" render", "page", page, "block", block, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status != 0 {
		w.WriteHeader(status)
	}
	w.Write(buf.Bytes())
}
