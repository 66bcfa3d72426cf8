package vault

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var receiptRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$`)

func TestNewReceipt(t *testing.T) {
	if bits := receiptDataChars * 5; bits < 80 {
		t.Fatalf("receipt carries %d random bits, want >= 80", bits)
	}
	const n = 3000
	seen := map[string]bool{}
	var values [receiptDataChars]map[byte]bool
	for i := range values {
		values[i] = map[byte]bool{}
	}
	for range n {
		r, err := NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		if !receiptRE.MatchString(r) {
			t.Fatalf("receipt %q does not match %s", r, receiptRE)
		}
		if seen[r] {
			t.Fatalf("duplicate receipt %q", r)
		}
		seen[r] = true
		if got, err := ParseReceipt(r); err != nil || got != r {
			t.Fatalf("ParseReceipt(%q) = %q, %v, want itself, nil", r, got, err)
		}
		data := strings.ReplaceAll(r, "-", "")[:receiptDataChars]
		for i := range data {
			values[i][data[i]] = true
		}
	}
	// Every data position must take (nearly) all 32 values: 3000 draws miss
	// one value with probability about 32·(31/32)^3000 ≈ 0.
	for i, m := range values {
		if len(m) != 32 {
			t.Errorf("position %d took %d distinct values, want 32", i, len(m))
		}
	}
}

func TestParseReceipt(t *testing.T) {
	r, _ := NewReceipt()
	flat := strings.ReplaceAll(r, "-", "")
	lookAlike := strings.NewReplacer("0", "O", "1", "I").Replace(r)
	lookAlikeL := strings.NewReplacer("0", "o", "1", "l").Replace(r)
	fullWidth := strings.Map(func(c rune) rune {
		if c == '-' {
			return ' '
		}
		return c - '!' + 0xFF01
	}, r)
	good := map[string]string{
		"canonical":      r,
		"lower":          strings.ToLower(r),
		"no dashes":      flat,
		"spaces":         strings.ReplaceAll(r, "-", " "),
		"mixed":          "  " + strings.ToLower(flat[:7]) + " " + flat[7:12] + "-" + flat[12:] + "\t\n",
		"O and I":        lookAlike,
		"o and l":        lookAlikeL,
		"full width":     fullWidth,
		"unicode dashes": strings.ReplaceAll(r, "-", "\u2013"),
	}
	for name, s := range good {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseReceipt(s); err != nil || got != r {
				t.Errorf("ParseReceipt(%q) = %q, %v, want %q, nil", s, got, err, r)
			}
		})
	}
	bad := map[string]string{
		"empty":          "",
		"only dashes":    "----",
		"short":          r[:len(r)-1],
		"long":           r + "0",
		"letter U":       "U" + r[1:],
		"star":           "*" + r[1:],
		"underscore sep": strings.ReplaceAll(r, "-", "_"),
		"non ascii":      "é" + r[1:],
		"data only":      flat[:receiptDataChars],
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseReceipt(s); !errors.Is(err, ErrReceiptFormat) || got != "" {
				t.Errorf("ParseReceipt(%q) = %q, %v, want \"\", %v", s, got, err, ErrReceiptFormat)
			}
		})
	}
}

// TestReceiptTypos checks exhaustively, for a few hundred random receipts,
// that every single-character substitution at every position and every
// adjacent transposition of different characters is rejected.
func TestReceiptTypos(t *testing.T) {
	const receipts = 300
	var subs, swaps int
	for range receipts {
		r, err := NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		flat := []byte(strings.ReplaceAll(r, "-", ""))
		for pos := range flat {
			for c := range len(crockford) {
				if crockford[c] == flat[pos] {
					continue
				}
				typo := bytes.Clone(flat)
				typo[pos] = crockford[c]
				subs++
				if got, err := ParseReceipt(string(typo)); !errors.Is(err, ErrReceiptFormat) {
					t.Fatalf("substitution at %d in %s -> %s accepted: %q, %v", pos, flat, typo, got, err)
				}
			}
		}
		for pos := 0; pos+1 < len(flat); pos++ {
			if flat[pos] == flat[pos+1] {
				continue
			}
			typo := bytes.Clone(flat)
			typo[pos], typo[pos+1] = typo[pos+1], typo[pos]
			swaps++
			if got, err := ParseReceipt(string(typo)); !errors.Is(err, ErrReceiptFormat) {
				t.Fatalf("transposition at %d in %s -> %s accepted: %q, %v", pos, flat, typo, got, err)
			}
		}
	}
	if want := receipts * receiptChars * 31; subs != want {
		t.Errorf("checked %d substitutions, want %d", subs, want)
	}
	if swaps < receipts*(receiptChars-1)*9/10 {
		t.Errorf("checked only %d transpositions", swaps)
	}
}

// TestDammProperties checks the check function itself over every pair of
// values, independently of random receipts.
func TestDammProperties(t *testing.T) {
	for interim := range byte(32) {
		seenX := map[byte]bool{}
		for x := range byte(32) {
			s := dammStep(interim, x)
			if s > 31 || seenX[s] {
				t.Fatalf("dammStep(%d, ·) is not a permutation", interim)
			}
			seenX[s] = true
			for y := range byte(32) {
				if x != y && dammStep(dammStep(interim, x), y) == dammStep(dammStep(interim, y), x) {
					t.Fatalf("transposition %d,%d after %d undetected", x, y, interim)
				}
			}
		}
	}
	seen := map[byte]bool{}
	for x := range byte(32) {
		if m := dammMul(x); seen[m] {
			t.Fatalf("multiplication by a is not a bijection")
		} else {
			seen[m] = true
		}
	}
}

func TestReceiptContains(t *testing.T) {
	r, _ := NewReceipt()
	other, _ := NewReceipt()
	flat := strings.ReplaceAll(r, "-", "")
	g := strings.Split(r, "-")
	changed := []byte(flat)
	changed[3] = crockford[(strings.IndexByte(crockford, changed[3])+1)%32]
	tests := []struct {
		name    string
		text    string
		receipt string
		want    bool
	}{
		{"exact", r, r, true},
		{"in a sentence", "my receipt is " + r + ", please help", r, true},
		{"lower case", "code: " + strings.ToLower(r), r, true},
		{"no dashes", "x" + flat + "y", r, true},
		{"spaces", strings.Join(g, " "), r, true},
		{"dots and slashes", strings.Join(g, ". /"), r, true},
		{"newlines", strings.Join(g, "\n"), r, true},
		{"look-alikes", strings.NewReplacer("0", "o", "1", "l").Replace(r), r, true},
		{"look-alikes upper", strings.NewReplacer("0", "O", "1", "I").Replace(r), r, true},
		{"full width", strings.Map(func(c rune) rune { return c - '!' + 0xFF01 }, flat), r, true},
		{"receipt given lower", r, strings.ToLower(flat), true},
		{"without check char", "it starts " + flat[:receiptDataChars], r, true},
		{"spelled with spaces each", strings.Join(strings.Split(flat, ""), " "), r, true},
		{"empty text", "", r, false},
		{"other receipt", "my receipt is " + other, r, false},
		{"one char changed", string(changed), r, false},
		{"three groups", strings.Join(g[:3], "-"), r, false},
		{"first group repeated", strings.Repeat(g[0], 5), r, false},
		{"plain text", "the bullying happens in the gym after class", r, false},
		{"empty receipt", "anything", "", false},
		{"short receipt", "abc", "abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReceiptContains(tt.text, tt.receipt); got != tt.want {
				t.Errorf("ReceiptContains(%q, %q) = %v, want %v", tt.text, tt.receipt, got, tt.want)
			}
		})
	}
}

func TestReceiptMAC(t *testing.T) {
	v := newTestVault(t, 1)
	r, _ := NewReceipt()
	m := v.ReceiptMAC(r)
	if got, want := m, v.MAC("receipt", []byte(r)); !bytes.Equal(got, want) {
		t.Errorf("ReceiptMAC = %x, want MAC(receipt, canonical) = %x", got, want)
	}
	if got := v.ReceiptMAC(strings.ToLower(strings.ReplaceAll(r, "-", " "))); !bytes.Equal(got, m) {
		t.Errorf("ReceiptMAC of rewritten receipt = %x, want %x", got, m)
	}
	other, _ := NewReceipt()
	if bytes.Equal(v.ReceiptMAC(other), m) {
		t.Errorf("two receipts have the same MAC")
	}
	typo := "0" + r[1:]
	if typo == r {
		typo = "1" + r[1:]
	}
	if bytes.Equal(v.ReceiptMAC(typo), m) {
		t.Errorf("mistyped receipt has the receipt's MAC")
	}
}

func TestReporterKey(t *testing.T) {
	v := newTestVault(t, 1)
	for _, version := range []int{ReporterKeyV1, ReporterKeyV2} {
		t.Run(fmt.Sprint(version), func(t *testing.T) {
			r, _ := NewReceipt()
			other, _ := NewReceipt()
			k1, err := v.ReporterKey(r, version)
			if err != nil {
				t.Fatal(err)
			}
			k2, err := v.ReporterKey(strings.ToLower(strings.ReplaceAll(r, "-", "")), version)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k1.PublicKey(), k2.PublicKey()) {
				t.Errorf("ReporterKey not deterministic across rewritings")
			}
			k3, _ := v.ReporterKey(other, version)
			if bytes.Equal(k1.PublicKey(), k3.PublicKey()) {
				t.Errorf("two receipts derive the same key")
			}
			info := Info{School: 1, Tip: NewID(), Msg: NewID(), Part: "reporter-body"}
			ct, err := Seal(k1.PublicKey(), info, []byte("reply from counselor"))
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := Open(k2, info, ct); err != nil || string(pt) != "reply from counselor" {
				t.Errorf("Open with re-derived key = %q, %v", pt, err)
			}
			if _, err := Open(k3, info, ct); !errors.Is(err, ErrDecrypt) {
				t.Errorf("Open with other receipt's key error = %v, want %v", err, ErrDecrypt)
			}
			if _, err := v.ReporterKey("not a receipt", version); !errors.Is(err, ErrReceiptFormat) {
				t.Errorf("ReporterKey(bad) error = %v, want %v", err, ErrReceiptFormat)
			}
		})
	}
	r, _ := NewReceipt()
	if _, err := v.ReporterKey(r, 3); !errors.Is(err, ErrKeyVersion) {
		t.Errorf("ReporterKey(version 3) error = %v, want %v", err, ErrKeyVersion)
	}
}

// TestReporterKeyNeedsServerKey is the offline guessing test: with a copy
// of the database but not the server key, a correct receipt does not
// derive a new tip's reporter key, so a guess cannot be checked against
// the stored public key. Version 1 keys could be checked, which is why
// they are only read, never made.
func TestReporterKeyNeedsServerKey(t *testing.T) {
	server := newTestVault(t, 1)
	attacker := newTestVault(t, 2) // any server key but the real one
	r, _ := NewReceipt()
	stored, err := server.ReporterKey(r, ReporterKeyCurrent)
	if err != nil {
		t.Fatal(err)
	}
	guess, err := attacker.ReporterKey(r, ReporterKeyCurrent)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(guess.PublicKey(), stored.PublicKey()) {
		t.Fatalf("the right receipt without the server key derives the stored public key")
	}
	for _, version := range []int{ReporterKeyV1} {
		if k, _ := attacker.ReporterKey(r, version); bytes.Equal(k.PublicKey(), stored.PublicKey()) {
			t.Errorf("version %d derivation (no server key) matches a current key", version)
		}
	}
	info := Info{Version: InfoV2, School: 1, Tip: NewID(), Msg: NewID(), Part: "reporter-body", Author: "counselor", Counselor: 3}
	ct, err := Seal(stored.PublicKey(), info, []byte("reply"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(guess, info, ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open with the receipt's key derived without the server key: error = %v, want %v", err, ErrDecrypt)
	}
	if pt, err := Open(stored, info, ct); err != nil || string(pt) != "reply" {
		t.Errorf("Open with the server's derivation = %q, %v", pt, err)
	}
	// Version 1 depends on the receipt alone: the same under any server key.
	k1, _ := server.ReporterKey(r, ReporterKeyV1)
	k1b, _ := attacker.ReporterKey(r, ReporterKeyV1)
	if !bytes.Equal(k1.PublicKey(), k1b.PublicKey()) {
		t.Errorf("version 1 derivation depends on the server key; old tips would not open")
	}
}

// TestReporterKeyStable pins each derivation: changing one would make
// every reporter thread of that version unreadable.
func TestReporterKeyStable(t *testing.T) {
	vals := make([]byte, receiptDataChars)
	for i := range vals {
		vals[i] = byte(i)
	}
	r := group(append(vals, dammCheck(vals)))
	const want = "0123456789ABCDEFGHJ"
	if got := strings.ReplaceAll(r, "-", "")[:receiptDataChars]; got != want {
		t.Errorf("receipt data = %q, want %q", got, want)
	}
	v := newTestVault(t, 1)
	for _, tt := range []struct {
		version int
		want    string // SHA-256 of the public key
	}{
		// Computed with the derivation before versions existed.
		{ReporterKeyV1, "4b08c8c8aef32f6e3ac1a14e077f343e9d221dcbf332e243df3904e4549a2f5d"},
		{ReporterKeyV2, "8624af708bc55c66bde78df502cee55a157e07dea8a73b68f47d49289f14796d"}, // server key 0x01…
	} {
		k, err := v.ReporterKey(r, tt.version)
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := v.ReporterKey(r, tt.version)
		if !bytes.Equal(k.seed, k2.seed) || len(k.seed) != PrivateKeySize {
			t.Fatalf("v%d seed not deterministic", tt.version)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(k.PublicKey())); got != tt.want {
			t.Errorf("v%d public key hash = %s, want %s", tt.version, got, tt.want)
		}
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, want 32 lowercase hex", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestNewOneTimePassword(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	for range 1000 {
		p, err := NewOneTimePassword()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(p) {
			t.Fatalf("NewOneTimePassword() = %q, want 4 groups of 4 lowercase Crockford", p)
		}
		if seen[p] {
			t.Fatalf("duplicate password %q", p)
		}
		seen[p] = true
	}
}

func TestRandomCodeIsUniform(t *testing.T) {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ" // 30: 256 % 30 != 0, so bias would show
	counts := map[rune]int{}
	const n = 300000
	code, err := RandomCode(alphabet, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range code {
		counts[r]++
	}
	if len(code) != n || len(counts) != len(alphabet) {
		t.Fatalf("len %d, %d letters", len(code), len(counts))
	}
	// Each letter expects 10,000; modulo bias would give the first 16
	// letters about 10,600. Allow 5 standard deviations (~500).
	for r, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("letter %c drawn %d times, want about 10000", r, c)
		}
	}
	if _, err := RandomCode("", 4); err == nil {
		t.Error("empty alphabet accepted")
	}
}
