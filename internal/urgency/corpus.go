package urgency

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Example is one labelled message of a corpus.
type Example struct {
	Danger   bool   // label "danger": danger now
	Category string // from the corpus vocabulary (suicidal, game, ...); "legacy" lines have none
	Lang     string // zh, en, pinyin, mixed; "" when the file does not say
	Voice    string
	Text     string
	// Batch is the file the line came from, without its extension: the
	// unit of grouped cross-validation, so that lines written together
	// (and paraphrases of one another) are never on both sides of a fold.
	Batch string
}

// LegacyBatch names the 835 lines the rules were tuned on
// (corpus/legacy.tsv, "urgent|ordinary<TAB>text").
const LegacyBatch = "legacy"

// maxCorpusLine bounds one line of a corpus file: a message is at most
// 4,096 characters.
const maxCorpusLine = 64 << 10

// ReadCorpusFile reads one batch file in the corpus format
// ("label<TAB>category<TAB>lang<TAB>voice<TAB>text", a header line first)
// or, for the legacy file, "urgent|ordinary<TAB>text" with # comments. The
// batch is the file's name without its extension.
func ReadCorpusFile(name string, r io.Reader) ([]Example, error) {
	batch := strings.TrimSuffix(path.Base(filepath.ToSlash(name)), path.Ext(name))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxCorpusLine)
	var out []Example
	header := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("%s:%d: not UTF-8", name, n)
		}
		f := strings.Split(line, "\t")
		switch {
		case len(f) == 5 && f[0] == "label":
			header = true
			continue
		case len(f) == 5:
			if !header {
				return nil, fmt.Errorf("%s:%d: a line before the header \"label\\tcategory\\tlang\\tvoice\\ttext\"", name, n)
			}
			if f[0] != "danger" && f[0] != "ordinary" {
				return nil, fmt.Errorf("%s:%d: label %q, want danger or ordinary", name, n, f[0])
			}
			if strings.TrimSpace(f[4]) == "" {
				return nil, fmt.Errorf("%s:%d: empty text", name, n)
			}
			out = append(out, Example{Danger: f[0] == "danger", Category: f[1], Lang: f[2], Voice: f[3], Text: f[4], Batch: batch})
		case len(f) == 2 && (f[0] == "urgent" || f[0] == "ordinary"):
			if strings.TrimSpace(f[1]) == "" {
				return nil, fmt.Errorf("%s:%d: empty text", name, n)
			}
			out = append(out, Example{Danger: f[0] == "urgent", Text: f[1], Batch: batch})
		default:
			return nil, fmt.Errorf("%s:%d: want 5 tab-separated fields (label, category, lang, voice, text), got %d", name, n, len(f))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ReadCorpusDir reads every .tsv file of a folder of fsys (not its
// subfolders), in name order, so that the same files give the same
// examples in the same order.
func ReadCorpusDir(fsys fs.FS, dir string) ([]Example, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".tsv") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var out []Example
	for _, n := range names {
		f, err := fsys.Open(path.Join(dir, n))
		if err != nil {
			return nil, err
		}
		ex, err := ReadCorpusFile(path.Join(dir, n), f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, ex...)
	}
	return out, nil
}

// TrainingSet reads what the model learns from: the training corpus
// (root/train/*.tsv), the legacy lines (root/legacy.tsv) as their own batch,
// and every .tsv file of each local folder (a district's own labelled
// lines, which never leave its machine). Local batches are prefixed with
// "local-" so that they never share a name with the corpus's. It never
// reads root/frozen: that split is for the final evaluation only.
func TrainingSet(root string, local ...string) ([]Example, error) {
	out, err := ReadCorpusDir(os.DirFS(root), "train")
	if err != nil {
		return nil, fmt.Errorf("training corpus: %w", err)
	}
	f, err := os.Open(filepath.Join(root, LegacyBatch+".tsv"))
	if err != nil {
		return nil, fmt.Errorf("legacy corpus: %w", err)
	}
	legacy, err := ReadCorpusFile(f.Name(), f)
	f.Close()
	if err != nil {
		return nil, err
	}
	out = append(out, legacy...)
	for _, dir := range local {
		ex, err := ReadCorpusDir(os.DirFS(dir), ".")
		if err != nil {
			return nil, fmt.Errorf("local lines %s: %w", dir, err)
		}
		for i := range ex {
			ex[i].Batch = "local-" + ex[i].Batch
		}
		out = append(out, ex...)
	}
	return out, nil
}
