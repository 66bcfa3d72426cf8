package main

import (
	"context"
	"fmt"

	"hotline/internal/district"
	"hotline/internal/store"
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
	if err := checkExportFilter(ctx, m.DB, f); err != nil {
		return err
	}
	ds := district.New(m.DB)
	rep, err := ds.Report(ctx, f)
	if err != nil {
		return errMessage(err)
	}
	var schoolID int64
	if f.SchoolCode != "" {
		if school, err := m.DB.SchoolByCode(ctx, f.SchoolCode); err == nil {
			schoolID, f.District = school.ID, school.District
		}
	}
	// The command line is audited too: the district sees that its figures
	// were exported from the server itself.
	if err := ds.RecordExport(ctx, nil, f.District, schoolID, "cli", f.Describe("summary.csv")); err != nil {
		return err
	}
	return rep.WriteCSV(env.Stdout)
}

// checkExportFilter fails for a district or school that does not exist: a
// mistyped name would otherwise give an empty report that looks like a
// district with no reports.
func checkExportFilter(ctx context.Context, db *store.DB, f district.ReportFilter) error {
	if f.District != "" {
		d, err := db.DistrictByName(ctx, f.District)
		if err != nil {
			return err
		}
		if d == nil {
			// A school may name a district that has no key pair yet.
			schools, err := db.Schools(ctx, f.District)
			if err != nil {
				return err
			}
			if len(schools) == 0 {
				return fmt.Errorf("没有名为 %q 的区教育局，也没有学校属于它 / no district named %q, and no school belongs to one (hotline district add creates it; hotline school add --district links a school)", f.District, f.District)
			}
		}
	}
	if f.SchoolCode != "" {
		school, err := db.SchoolByCode(ctx, f.SchoolCode)
		if err != nil {
			return errMessage(err)
		}
		if f.District != "" && school.District != f.District {
			return fmt.Errorf("学校 %q 不属于 %q / school %q is not in district %q", f.SchoolCode, f.District, f.SchoolCode, f.District)
		}
	}
	return nil
}
