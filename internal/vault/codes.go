package vault

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// crockford is Crockford's base32 alphabet: no I, L, O, U, so the
// characters people confuse map to one value.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockfordEncoding = base32.NewEncoding(crockford).WithPadding(base32.NoPadding)

// crockfordValue maps an upper-case ASCII byte to its value, or -1.
var crockfordValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(crockford) {
		t[crockford[i]] = int8(i)
	}
	// Crockford's decoding rules for look-alikes.
	t['O'] = 0
	t['I'] = 1
	t['L'] = 1
	return t
}()

const (
	receiptDataChars = 19 // 95 bits
	receiptChars     = receiptDataChars + 1
	receiptGroup     = 5

	recoveryBytes     = 32
	recoveryDataChars = (recoveryBytes*8 + 4) / 5 // 52
	recoveryChars     = recoveryDataChars + 1
)

// dammMul multiplies by a = x (2) in GF(32) with the polynomial x^5+x^2+1.
func dammMul(v byte) byte {
	v <<= 1
	if v&0x20 != 0 {
		v ^= 0x25
	}
	return v
}

// dammStep is the quasigroup x∘y = a·x ⊕ y over GF(32). With a ≠ 0, 1 it is
// weakly totally anti-symmetric: (c∘x)∘y = (c∘y)∘x implies x = y, because
// the difference is (a+1)(x⊕y). With a ≠ 0 both x↦x∘y and y↦x∘y are
// bijections. So the Damm check detects every single substitution and every
// adjacent transposition, including those involving the check character.
func dammStep(interim, v byte) byte { return dammMul(interim) ^ v }

// dammCheck returns the check value c such that processing vals then c
// ends at 0.
func dammCheck(vals []byte) byte {
	var r byte
	for _, v := range vals {
		r = dammStep(r, v)
	}
	return dammMul(r) // a·r ⊕ c = 0  ⇔  c = a·r
}

// dammValid reports whether vals (data followed by check) end at 0.
func dammValid(vals []byte) bool {
	var r byte
	for _, v := range vals {
		r = dammStep(r, v)
	}
	return r == 0
}

// foldWidth maps full-width ASCII forms (typed by CJK input methods) to ASCII.
func foldWidth(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		return r - 0xFF01 + '!'
	}
	if r == 0x3000 { // ideographic space
		return ' '
	}
	return r
}

// isSeparator reports the characters a person may put between groups.
func isSeparator(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		return true
	}
	return unicode.IsSpace(r)
}

// decodeCode normalizes a typed code (case, spaces, dashes, O/I/L) into
// Crockford values; ok is false on any other character.
func decodeCode(s string) (vals []byte, ok bool) {
	vals = make([]byte, 0, len(s))
	for _, r := range strings.TrimSpace(s) {
		r = foldWidth(r)
		if isSeparator(r) {
			continue
		}
		if r >= 0x80 {
			return nil, false
		}
		v := crockfordValue[byte(unicode.ToUpper(r))]
		if v < 0 {
			return nil, false
		}
		vals = append(vals, byte(v))
	}
	return vals, true
}

// group renders values as Crockford characters in groups of 5 joined by '-'.
func group(vals []byte) string {
	var b strings.Builder
	b.Grow(len(vals) + len(vals)/receiptGroup)
	for i, v := range vals {
		if i > 0 && i%receiptGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[v])
	}
	return b.String()
}

// randomValues returns n uniformly random values in [0, 32).
func randomValues(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("vault: random: %w", err)
	}
	for i := range b {
		b[i] &= 31 // 256 is a multiple of 32: no bias
	}
	return b, nil
}

// NewReceipt returns a new receipt: 19 random Crockford base32 characters
// (95 bits) and one check character, as 4 groups of 5 joined by '-', e.g.
// 7KQ2M-9XFH3-DPWT8-NABCE.
func NewReceipt() (string, error) {
	vals, err := randomValues(receiptDataChars)
	if err != nil {
		return "", err
	}
	vals = append(vals, dammCheck(vals))
	return group(vals), nil
}

// ParseReceipt normalizes a typed receipt (trims, upper-cases, drops spaces
// and dashes, maps O to 0 and I, L to 1), verifies its check character and
// returns the canonical grouped form. Anything else returns ErrReceiptFormat.
func ParseReceipt(s string) (string, error) {
	vals, ok := decodeCode(s)
	if !ok {
		return "", fmt.Errorf("%w: invalid character", ErrReceiptFormat)
	}
	if len(vals) != receiptChars {
		return "", fmt.Errorf("%w: want %d characters, got %d", ErrReceiptFormat, receiptChars, len(vals))
	}
	if !dammValid(vals) {
		return "", fmt.Errorf("%w: check character mismatch", ErrReceiptFormat)
	}
	return group(vals), nil
}

// looseNormalize keeps only ASCII letters and digits (after folding
// full-width forms), upper-cased with Crockford's O→0 and I, L→1, so any
// rewriting of a code with separators, case or look-alikes compares equal.
func looseNormalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToUpper(foldWidth(r))
		switch {
		case r == 'O':
			b.WriteByte('0')
		case r == 'I' || r == 'L':
			b.WriteByte('1')
		case r >= '0' && r <= '9' || r >= 'A' && r <= 'Z':
			b.WriteByte(byte(r))
		}
	}
	return b.String()
}

// ReceiptContains reports whether text contains receipt in any common
// rewriting: with or without dashes, spaces or other punctuation, any case,
// O/0 and I/L/1 confusion, full-width characters. It looks for the 19 data
// characters only, since they alone give the whole receipt away. Used to
// refuse a reporter message that would leak its own receipt to staff.
func ReceiptContains(text, receipt string) bool {
	var needle string
	if canon, err := ParseReceipt(receipt); err == nil {
		needle = looseNormalize(canon)[:receiptDataChars]
	} else {
		needle = looseNormalize(receipt)
		if len(needle) < receiptDataChars-3 {
			return false // too short to be a receipt; would match by chance
		}
	}
	return strings.Contains(looseNormalize(text), needle)
}

// ReceiptMAC returns MAC("receipt", canonical form), the lookup index of a
// receipt. An unparsable receipt gets a MAC that matches no stored receipt;
// call ParseReceipt first to tell the reporter about a typo.
func (v *Vault) ReceiptMAC(receipt string) []byte {
	canon, err := ParseReceipt(receipt)
	if err != nil {
		canon = "invalid:" + strings.TrimSpace(receipt)
	}
	return v.MAC("receipt", []byte(canon))
}

// ChatMAC returns MAC("telegram-chat", decimal chat id), the lookup index of
// a Telegram chat.
func (v *Vault) ChatMAC(chatID int64) []byte {
	return v.MAC("telegram-chat", strconv.AppendInt(nil, chatID, 10))
}

// SealChat seals a Telegram chat id under the server key, bound to no row
// (the version 1 format). New rows use SealHandleChat or SealStaffChat,
// which bind the chat id to the row it is stored in.
func (v *Vault) SealChat(chatID int64) ([]byte, error) {
	return v.SealServer("telegram-chat", strconv.AppendInt(nil, chatID, 10))
}

// OpenChat opens the output of SealChat; any failure returns ErrDecrypt. It
// never opens a row-bound chat id: those open only for their row.
func (v *Vault) OpenChat(sealed []byte) (int64, error) {
	pt, err := v.OpenServer("telegram-chat", sealed)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(string(pt), 10, 64)
	if err != nil {
		return 0, ErrDecrypt
	}
	return id, nil
}

// NewID returns 16 random bytes as 32 lowercase hex characters, for tip and
// message ids chosen before insert (they go into the HPKE info).
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails since Go 1.24 (it crashes the program instead)
	return hex.EncodeToString(b)
}

// NewOneTimePassword returns an 80-bit password for a new counselor: 16
// lowercase Crockford base32 characters in groups of 4, e.g.
// "k3m9-xq2p-7tvw-4hzr".
func NewOneTimePassword() (string, error) {
	vals, err := randomValues(16)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, v := range vals {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[v] | 0x20) // lower case; digits are unaffected
	}
	return b.String(), nil
}

// NewRecoveryKey returns a new 256-bit recovery key, shown once to a school
// admin: 52 Crockford base32 characters and one check character (so a typo
// is reported as such, not as a wrong key), in groups of 5 joined by '-'.
func NewRecoveryKey() (string, error) {
	secret := make([]byte, recoveryBytes)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("vault: random: %w", err)
	}
	defer clear(secret)
	return encodeRecoveryKey(secret), nil
}

func encodeRecoveryKey(secret []byte) string {
	s := crockfordEncoding.EncodeToString(secret)
	vals := make([]byte, len(s), len(s)+1)
	for i := range len(s) {
		vals[i] = byte(crockfordValue[s[i]])
	}
	vals = append(vals, dammCheck(vals))
	return group(vals)
}

// ParseRecoveryKey normalizes a typed recovery key (case, spaces, dashes,
// O/I/L) and returns its canonical grouped form, or an error matching
// ErrRecoveryKeyFormat.
func ParseRecoveryKey(s string) (string, error) {
	secret, err := decodeRecoveryKey(s)
	if err != nil {
		return "", err
	}
	defer clear(secret)
	return encodeRecoveryKey(secret), nil
}

func decodeRecoveryKey(s string) ([]byte, error) {
	vals, ok := decodeCode(s)
	if !ok {
		return nil, fmt.Errorf("%w: invalid character", ErrRecoveryKeyFormat)
	}
	if len(vals) != recoveryChars {
		return nil, fmt.Errorf("%w: want %d characters, got %d", ErrRecoveryKeyFormat, recoveryChars, len(vals))
	}
	if !dammValid(vals) {
		return nil, fmt.Errorf("%w: check character mismatch", ErrRecoveryKeyFormat)
	}
	text := make([]byte, recoveryDataChars)
	for i, v := range vals[:recoveryDataChars] {
		text[i] = crockford[v]
	}
	secret, err := crockfordEncoding.DecodeString(string(text))
	if err != nil || len(secret) != recoveryBytes {
		return nil, fmt.Errorf("%w: bad encoding", ErrRecoveryKeyFormat)
	}
	// The last character carries 4 padding bits; non-zero padding would give
	// one key two spellings.
	if crockfordValue[text[recoveryDataChars-1]]&0x0f != 0 {
		clear(secret)
		return nil, fmt.Errorf("%w: non-canonical last character", ErrRecoveryKeyFormat)
	}
	return secret, nil
}

// RandomCode returns n characters drawn uniformly from alphabet (at most
// 256 characters) with crypto/rand, rejecting the bytes that would bias
// the draw: for short-lived codes such as the staff's Telegram link code.
func RandomCode(alphabet string, n int) (string, error) {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		return "", fmt.Errorf("vault: alphabet of %d characters", len(alphabet))
	}
	limit := 256 - 256%len(alphabet) // bytes at or above limit would favour the first letters
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
