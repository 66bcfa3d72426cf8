package main

import (
	"strings"
	"testing"
)

// initData makes an empty data directory with the CLI.
func initData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "init", "--data", dir); code != 0 {
		t.Fatalf("init exit %d: %s", code, errs)
	}
	return dir
}

func TestDistrictAddExplainsItsKeys(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	code, out, errs := runCLI(t, "district", "add", "--data", dir, "--name", "海淀区", "--officer", "haidian-officer")
	if code != 0 {
		t.Fatalf("district add exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"恢复密钥", "Recovery key (shown ONCE)",
		"区教育局私钥的唯一备份", "only backup of the district's private key",
		"保险柜", "never on this server",
		"haidian-officer", "one-time password", "当面交给", "hand it to the officer in person",
		"/district/settings",
		"hotline school add --name NAME --code CODE --district 海淀区",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("district add output lacks %q:\n%s", want, out)
		}
	}
}

func TestExportUnknownDistrictFails(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	if code, _, errs := runCLI(t, "district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"); code != 0 {
		t.Fatalf("district add: %s", errs)
	}
	if code, _, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区"); code != 0 {
		t.Fatalf("school add: %s", errs)
	}
	// A school whose district is created with it.
	if code, _, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第五中学", "--code", "no5", "--district", "朝阳区", "--create-district", "--officer", "cy-officer"); code != 0 {
		t.Fatalf("school add: %s", errs)
	}

	code, out, errs := runCLI(t, "export", "--data", dir, "--district", "海定区")
	if code != 1 || out != "" {
		t.Fatalf("unknown district: exit %d, %d bytes of output", code, len(out))
	}
	if !strings.Contains(errs, `no district named "海定区"`) || !strings.Contains(errs, "没有名为") {
		t.Fatalf("unknown district message: %s", errs)
	}
	// A school outside the district is an error too, not an empty file.
	if code, _, errs := runCLI(t, "export", "--data", dir, "--district", "海淀区", "--school", "no5"); code != 1 || !strings.Contains(errs, "is not in district") {
		t.Fatalf("school outside the district: exit %d: %s", code, errs)
	}
	for _, d := range []string{"海淀区", "朝阳区"} {
		if code, out, errs := runCLI(t, "export", "--data", dir, "--district", d); code != 0 || !strings.Contains(out, "\n") {
			t.Fatalf("export %s: exit %d: %s", d, code, errs)
		}
	}
}
