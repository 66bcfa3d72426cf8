package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/urgency"
)

// writeCorpus lays out a small corpus of the test's own lines: train/
// (seven batches), legacy.tsv and frozen/, and a district's local folder.
func writeCorpus(t *testing.T) (root, local string, texts []string) {
	t.Helper()
	root, local = t.TempDir(), t.TempDir()
	danger := []string{"我现在站在楼顶边上", "他拿着刀在门口等我", "i swallowed all the pills in the box", "wo xianzai jiu zai tiantai shang"}
	ordinary := []string{"我们今天在楼顶上晒被子", "他拿着一本书在门口等我", "i took my cold pills like the doctor said", "wo men zai tiantai shang wan"}
	write := func(dir, name string, lines []string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "label\tcategory\tlang\tvoice\ttext\n" + strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for b := 0; b < 7; b++ {
		var lines []string
		for i := 0; i < 4; i++ {
			d := fmt.Sprintf("%s %d%d", danger[(b+i)%4], b, i)
			o := fmt.Sprintf("%s %d%d", ordinary[(b+i)%4], b, i)
			lines = append(lines, "danger\tplan_means\tzh\tp14-17\t"+d, "ordinary\tgame\tzh\tp11-13\t"+o)
			texts = append(texts, d, o)
		}
		write(filepath.Join(root, "train"), fmt.Sprintf("t%02d-test.tsv", b), lines)
	}
	write(filepath.Join(root, "frozen"), "f01-test.tsv", []string{"danger\tplan_means\tzh\tp14-17\t我在天台边上 FROZEN-LINE", "danger\tgoodbye\tzh\tp14-17\t我们今天在楼顶上晒被子 00 FROZEN-LINE", "ordinary\tgame\tzh\tp11-13\t我们在天台上玩 FROZEN-LINE"})
	write(local, "district-a.tsv", []string{"danger\tthreat\tzh\tparent\t他说明天要来学校打死我们家孩子 LOCAL-LINE"})
	if err := os.WriteFile(filepath.Join(root, "legacy.tsv"), []byte("# legacy\nurgent\t我想死\nordinary\t笑死了\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, local, texts
}

// TestDetectorTrainAndEval: train writes a model file that the binary can
// read, the same bytes twice, from the training lines and the local folder
// only; eval prints figures for every layer and never a line.
func TestDetectorTrainAndEval(t *testing.T) {
	root, local, texts := writeCorpus(t)
	out := filepath.Join(t.TempDir(), "model.bin")
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runWith(t.Context(), args, &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("hotline %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
		return stdout.String()
	}
	// A toy corpus needs few buckets; the default's 2^18 made this test
	// train for two minutes under -race.
	got := run("detector", "train", "--corpus", root, "--local", local, "--out", out, "--bits", "12")
	if !strings.Contains(got, "trained nblr on 59 lines") || !strings.Contains(got, "in 9 batches") {
		t.Errorf("train said:\n%s", got)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m urgency.Model
	if err := m.UnmarshalBinary(first); err != nil {
		t.Fatal(err)
	}
	if m.Info.Examples != 59 || m.Score("我现在站在楼顶边上") <= m.Score("我们今天在楼顶上晒被子") {
		t.Errorf("model: %+v; want 59 lines and danger scored above ordinary", m.Info)
	}
	run("detector", "train", "--corpus", root, "--local", local, "--out", out, "--bits", "12")
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("training twice wrote different model files")
	}

	report := run("detector", "eval", "--corpus", root, "--model", out, "--split", "cv", "--bits", "12")
	var frozen, stderr bytes.Buffer
	code := runWith(t.Context(), []string{"detector", "eval", "--corpus", root, "--model", out, "--split", "frozen"}, &Env{Stdout: &frozen, Stderr: &stderr, Getenv: func(string) string { return "" }})
	// The frozen split holds a training line that is ordinary, labelled
	// danger: it is missed, recall is at most 2/3, below the goals, and
	// eval fails (after printing its figures).
	if code != 1 || !strings.Contains(stderr.String(), "miss the goals") {
		t.Errorf("eval --split frozen below the goals: exit %d, %q; want exit 1 saying the goals are missed", code, stderr.String())
	}
	report += frozen.String()
	for _, want := range []string{"Batch-grouped cross-validation", "Frozen split: 3 lines", "| rules |", "| model |", "| combined |", "plan_means"} {
		if !strings.Contains(report, want) {
			t.Errorf("eval output lacks %q:\n%s", want, report)
		}
	}
	for _, line := range append(texts, "FROZEN-LINE", "LOCAL-LINE", "我想死") {
		if strings.Contains(report, line) {
			t.Fatalf("eval printed a line of the corpus: %q", line)
		}
	}

	// Bad flags are usage errors.
	stderr.Reset()
	if code := runWith(t.Context(), []string{"detector", "train", "--method", "forest"}, &Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(string) string { return "" }}); code != 2 {
		t.Errorf("--method forest: exit %d, want 2", code)
	}
	if code := runWith(t.Context(), []string{"detector", "train", "--bits", "40"}, &Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(string) string { return "" }}); code != 2 {
		t.Errorf("--bits 40: exit %d, want 2", code)
	}
}
