package ledger

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Anchor is a head held outside the server — in the district's paper
// register, the bureau's platform (every webhook carries the head of its
// event), a daily e-mail or a robot's message: event Seq's hash began with
// Prefix (the whole hash, or its short form). A ledger whose event Seq is
// gone, or hashes otherwise, was cut or rewritten after the head left.
type Anchor struct {
	Seq    int64
	Prefix string // lower-case hex, at least ShortLen digits
}

// String writes the anchor as ParseAnchor reads it.
func (a Anchor) String() string { return strconv.FormatInt(a.Seq, 10) + ":" + a.Prefix }

// ParseAnchor reads "SEQ:HASH" (or "SEQ HASH"): HASH is the whole hash in
// hex or its short form (at least ShortLen hex digits; dashes and spaces
// between the groups are ignored).
func ParseAnchor(s string) (Anchor, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, ": \t")
	if i < 0 {
		return Anchor{}, fmt.Errorf("ledger head %q: want SEQ:HASH", s)
	}
	seq, err := strconv.ParseInt(strings.TrimSpace(s[:i]), 10, 64)
	if err != nil || seq <= 0 {
		return Anchor{}, fmt.Errorf("ledger head %q: the sequence number is not a positive number", s)
	}
	h := strings.ToLower(strings.NewReplacer("-", "", " ", "", "\t", "").Replace(s[i+1:]))
	if len(h) < ShortLen || len(h) > 64 {
		return Anchor{}, fmt.Errorf("ledger head %q: the hash needs %d to 64 hex digits", s, ShortLen)
	}
	if strings.Trim(h, "0123456789abcdef") != "" {
		return Anchor{}, fmt.Errorf("ledger head %q: the hash is not hex", s)
	}
	return Anchor{Seq: seq, Prefix: h}, nil
}

// Matches reports whether hash is the anchor's.
func (a Anchor) Matches(hash []byte) bool {
	return strings.HasPrefix(hex.EncodeToString(hash), a.Prefix)
}

// Check confirms the anchor against a ledger whose event hashes are in
// hashes (at least the anchor's seq, when the ledger still has it) and
// whose last event is last.
func (a Anchor) Check(hashes map[int64][]byte, last int64) *Break {
	got, ok := hashes[a.Seq]
	switch {
	case a.Seq > last:
		return &Break{Seq: last + 1, Reason: fmt.Sprintf("a head held outside names event %d, but the ledger ends at %d: events were deleted from the end", a.Seq, last)}
	case !ok:
		return &Break{Seq: a.Seq, Reason: fmt.Sprintf("event %d, which a head held outside names, is no longer in the ledger", a.Seq)}
	case !a.Matches(got):
		return &Break{Seq: a.Seq, Reason: fmt.Sprintf("event %d no longer matches the head held outside (%s): history was rewritten", a.Seq, a.Prefix)}
	}
	return nil
}

// ParseAnchors reads a file of heads held outside, one a line: "SEQ:HASH"
// as ParseAnchor reads it, or a JSON object as the bureau's platform
// receives them — a webhook body with "ledger": {"seq", "hash"}, or an
// object with "seq" and "hash" of its own. Blank lines and lines starting
// with # are skipped.
func ParseAnchors(r io.Reader) ([]Anchor, error) {
	var out []Anchor
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var a Anchor
		var err error
		if strings.HasPrefix(line, "{") {
			a, err = anchorJSON([]byte(line))
		} else {
			a, err = ParseAnchor(line)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no ledger head in the file")
	}
	return out, nil
}

func anchorJSON(b []byte) (Anchor, error) {
	var v struct {
		Seq    int64  `json:"seq"`
		Hash   string `json:"hash"`
		Ledger *struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"ledger"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil {
		return Anchor{}, fmt.Errorf("not JSON: %w", err)
	}
	if v.Ledger != nil {
		v.Seq, v.Hash = v.Ledger.Seq, v.Ledger.Hash
	}
	return ParseAnchor(strconv.FormatInt(v.Seq, 10) + ":" + v.Hash)
}
