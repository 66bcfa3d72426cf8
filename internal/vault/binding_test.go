package vault

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestInfoV2Bytes(t *testing.T) {
	i := Info{Version: InfoV2, School: 42, Tip: "t", Msg: "m", Part: "body", Author: "note", Counselor: 7}
	if got, want := string(i.Bytes()), "hotline/v2|42|t|m|body|note|7"; got != want {
		t.Errorf("Bytes = %q, want %q", got, want)
	}
	i.Version = InfoV1
	i.Author, i.Counselor = "", 0
	if got, want := string(i.Bytes()), "hotline/v1|42|t|m|body"; got != want {
		t.Errorf("v1 Bytes = %q, want %q", got, want)
	}
	for _, bad := range []Info{
		{Version: InfoV2, Part: "body"},                   // no author
		{Version: InfoV2, Part: "body", Author: "note|x"}, // separator
		{Version: InfoV1, Part: "body", Author: "note"},   // v1 cannot bind it
		{Part: "body", Counselor: 3},                      // neither can v0
		{Version: 3, Part: "body", Author: "reporter"},    // unknown
	} {
		if err := bad.Validate(); !errors.Is(err, ErrInfo) {
			t.Errorf("Validate(%+v) = %v, want %v", bad, err, ErrInfo)
		}
	}
}

// TestInfoBindsAuthor: a message sealed under a version 2 label opens only
// under the same author kind and counselor, so a note relabelled as the
// reporter's words, or a reply moved to another counselor, does not open;
// and a version 1 label is not a way around it.
func TestInfoBindsAuthor(t *testing.T) {
	k, _ := GenerateKeyPair()
	note := Info{Version: InfoV2, School: 1, Tip: NewID(), Msg: NewID(), Part: "body", Author: "note", Counselor: 5}
	ct, err := Seal(k.PublicKey(), note, []byte("internal note"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := Open(k, note, ct); err != nil || string(pt) != "internal note" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	with := func(f func(*Info)) Info { i := note; f(&i); return i }
	for name, info := range map[string]Info{
		"as reporter":     with(func(i *Info) { i.Author, i.Counselor = "reporter", 0 }),
		"as reply":        with(func(i *Info) { i.Author = "counselor" }),
		"other counselor": with(func(i *Info) { i.Counselor = 6 }),
		"version 1 label": {Version: InfoV1, School: note.School, Tip: note.Tip, Msg: note.Msg, Part: note.Part},
		"version 0 label": {School: note.School, Tip: note.Tip, Msg: note.Msg, Part: note.Part},
		"no counselor":    with(func(i *Info) { i.Counselor = 0 }),
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := Open(k, info, ct); !errors.Is(err, ErrDecrypt) {
				t.Errorf("Open = %q, %v, want %v", got, err, ErrDecrypt)
			}
		})
	}
}

func TestSealServerFor(t *testing.T) {
	v := newTestVault(t, 1)
	other := newTestVault(t, 2)
	ct, err := v.SealServerFor("p", "row-1", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.OpenServerFor("p", "row-1", ct); err != nil || string(got) != "secret" {
		t.Fatalf("OpenServerFor = %q, %v", got, err)
	}
	for _, tt := range []struct {
		name, purpose, row string
		v                  *Vault
		ct                 []byte
	}{
		{"other row", "p", "row-2", v, ct},
		{"other purpose", "q", "row-1", v, ct},
		{"shifted boundary", "pr", "ow-1", v, ct},
		{"other server key", "p", "row-1", other, ct},
		{"truncated", "p", "row-1", v, ct[:len(ct)-1]},
		{"empty", "p", "row-1", v, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.v.OpenServerFor(tt.purpose, tt.row, tt.ct); !errors.Is(err, ErrDecrypt) {
				t.Errorf("OpenServerFor = %q, %v, want %v", got, err, ErrDecrypt)
			}
		})
	}
	// A row-bound ciphertext never opens unbound.
	if got, err := v.OpenServer("p", ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenServer(bound) = %q, %v, want %v", got, err, ErrDecrypt)
	}
	// Rows sealed before binding (version 1) still open, for any row.
	old, _ := v.SealServer("p", []byte("old"))
	if got, err := v.OpenServerFor("p", "row-9", old); err != nil || string(got) != "old" {
		t.Errorf("OpenServerFor(version 1) = %q, %v", got, err)
	}
	if _, err := v.OpenServerFor("q", "row-9", old); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenServerFor(version 1, other purpose) error = %v, want %v", err, ErrDecrypt)
	}
}

// TestChatBoundToRow: a sealed chat id copied to another row (another
// tip's handle, another counselor) no longer opens, so replies and alerts
// cannot be redirected; rows sealed before binding still open.
func TestChatBoundToRow(t *testing.T) {
	v := newTestVault(t, 1)
	const chat = int64(-1001234567890)
	tipA, tipB := NewID(), NewID()
	h, err := v.SealHandleChat(tipA, chat)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(h, []byte(fmt.Sprint(chat))) {
		t.Errorf("sealed chat contains the id in clear")
	}
	if got, err := v.OpenHandleChat(tipA, h); err != nil || got != chat {
		t.Errorf("OpenHandleChat = %d, %v, want %d", got, err, chat)
	}
	if got, err := v.OpenHandleChat(tipB, h); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenHandleChat(other tip) = %d, %v, want %v", got, err, ErrDecrypt)
	}
	if got, err := v.OpenChat(h); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenChat(bound) = %d, %v, want %v", got, err, ErrDecrypt)
	}

	s, err := v.SealStaffChat(3, chat)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.OpenStaffChat(3, s); err != nil || got != chat {
		t.Errorf("OpenStaffChat = %d, %v, want %d", got, err, chat)
	}
	if got, err := v.OpenStaffChat(4, s); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenStaffChat(other counselor) = %d, %v, want %v", got, err, ErrDecrypt)
	}
	// A staff chat is not a reporter handle, even where the names could meet.
	if got, err := v.OpenHandleChat("3", s); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenHandleChat(staff chat) = %d, %v, want %v", got, err, ErrDecrypt)
	}

	e, err := v.SealStaffEmail(3, "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.OpenStaffEmail(3, e); err != nil || got != "a@example.org" {
		t.Errorf("OpenStaffEmail = %q, %v", got, err)
	}
	if got, err := v.OpenStaffEmail(4, e); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenStaffEmail(other counselor) = %q, %v, want %v", got, err, ErrDecrypt)
	}
	if got, err := v.OpenStaffChat(3, e); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenStaffChat(an address) = %d, %v, want %v", got, err, ErrDecrypt)
	}

	// Old rows, written with the version 1 code paths, still open.
	oldChat, _ := v.SealChat(chat)
	if got, err := v.OpenHandleChat(tipB, oldChat); err != nil || got != chat {
		t.Errorf("OpenHandleChat(version 1) = %d, %v, want %d", got, err, chat)
	}
	if got, err := v.OpenStaffChat(9, oldChat); err != nil || got != chat {
		t.Errorf("OpenStaffChat(version 1) = %d, %v, want %d", got, err, chat)
	}
	oldMail, _ := v.SealServer("staff-email", []byte("b@example.org"))
	if got, err := v.OpenStaffEmail(9, oldMail); err != nil || got != "b@example.org" {
		t.Errorf("OpenStaffEmail(version 1) = %q, %v", got, err)
	}
}

func TestAlertTargetBoundToItsRow(t *testing.T) {
	v := newTestVault(t, 1)
	row := AlertTargetRow(7, "counselor|3")
	sealed, err := v.SealAlertTarget(row, "+8613800138000", "SECabc")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("13800138000")) || bytes.Contains(sealed, []byte("SECabc")) {
		t.Fatal("sealed target holds its plaintext")
	}
	addr, secret, err := v.OpenAlertTarget(row, sealed)
	if err != nil || addr != "+8613800138000" || secret != "SECabc" {
		t.Fatalf("open = %q, %q, %v", addr, secret, err)
	}
	for _, other := range []string{AlertTargetRow(8, "counselor|3"), AlertTargetRow(7, "counselor|4"), AlertTargetRow(7, "school|3")} {
		if _, _, err := v.OpenAlertTarget(other, sealed); err != ErrDecrypt {
			t.Errorf("opened under %s: %v", other, err)
		}
	}
}
