package main

import (
	"context"
	"fmt"

	"hotline/internal/district"
)

// runExport writes the summary report to stdout: per school and month,
// counts and median times, never content or aliases.
func runExport(ctx context.Context, args []string, env *Env) error {
	var dir, districtName, school, from, to, format string
	fs := newFlagSet("export", env, "Write the summary report (工作总结) as CSV: per school and month, tips by category, severity, channel, status,\nhandling steps, escalations and median times. No content, no aliases; counts of 1–4 are shown as \"<5\", except the school's escalated and unassessed\ncases, which are exact.\nWithout filters it covers the whole deployment.")
	fs.dataFlag(&dir)
	fs.StringVar(&districtName, "district", "", "only this district's schools")
	fs.StringVar(&school, "school", "", "only this school (code)")
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (Beijing time)")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (Beijing time)")
	fs.StringVar(&format, "format", "csv", "output format: csv")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if format != "csv" {
		fmt.Fprintf(env.Stderr, "hotline export: unknown format %q (only csv)\n", format)
		return ErrUsage
	}
	f := district.ReportFilter{District: districtName, SchoolCode: school}
	var err error
	if from != "" {
		if f.From, err = district.ParseDate(from); err != nil {
			return errMessage(err)
		}
	}
	if to != "" {
		if f.To, err = district.ParseDate(to); err != nil {
			return errMessage(err)
		}
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	rep, err := district.New(m.DB).Report(ctx, f)
	if err != nil {
		return errMessage(err)
	}
	return rep.WriteCSV(env.Stdout)
}
