// Package thread owns the sealed message: sealing a message to everyone
// who may read it (the school, a web reporter, the district of an escalated
// case) under HPKE labels that bind each ciphertext to its place, opening
// it again with the right key, the photo encoding inside a seal, the one
// write transaction that appends a message to a tip, and the one rendering
// of a thread for its reporter.
//
// Every cipher runs in internal/vault; this package only says what is
// sealed to whom under which label. It never logs, and never stores or
// returns plaintext except to the caller that asked to open a message.
package thread

import (
	"bytes"
	"fmt"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Part labels: the last field of a ciphertext's HPKE info. Each copy of a
// message has its own, so that a ciphertext moved to another column does
// not open.
const (
	PartBody          = "body"
	PartPhoto         = "photo"
	PartReporterBody  = "reporter-body"
	PartReporterPhoto = "reporter-photo"
	PartDistrictBody  = "district-body"
	PartDistrictPhoto = "district-photo"
)

// Reader says which copy of a message to seal or open.
type Reader int

// The copies of a message.
const (
	ReadSchool Reader = iota
	ReadReporter
	ReadDistrict
)

// parts returns the labels of a reader's copy.
func (r Reader) parts() (body, photo string) {
	switch r {
	case ReadReporter:
		return PartReporterBody, PartReporterPhoto
	case ReadDistrict:
		return PartDistrictBody, PartDistrictPhoto
	}
	return PartBody, PartPhoto
}

// columns returns where a reader's copy is stored.
func (r Reader) columns(m *store.SealedMessage) (body, photo *[]byte) {
	switch r {
	case ReadReporter:
		return &m.ReporterSealed, &m.PhotoReporterSealed
	case ReadDistrict:
		return &m.DistrictSealed, &m.PhotoDistrictSealed
	}
	return &m.BodySealed, &m.PhotoSealed
}

// Recipients are the public keys a message is sealed to.
type Recipients struct {
	School   []byte // always
	Reporter []byte // a web reporter's receipt-derived key; nil for notes and Telegram
	District []byte // the district's key once a case is escalated; nil otherwise
}

// info is the HPKE label of one part of a message, in the label version
// the message was sealed under: version 2 (every new message) binds the
// author kind and the counselor who wrote, so that a note whose author
// column is changed to the reporter's, or a reply moved to another
// counselor, no longer opens; version 1 rows, sealed before, keep the
// label they were sealed under. The version is a column of the message,
// not a prefix of its ciphertexts: a row whose version is lowered to 1
// does not open either, since its ciphertexts were sealed under the
// version 2 label.
func info(schoolID int64, tipUID string, m *store.SealedMessage, part string) vault.Info {
	i := vault.Info{Version: m.SealVersion, School: schoolID, Tip: tipUID, Msg: m.UID, Part: part}
	if m.SealVersion >= vault.InfoV2 {
		i.Author, i.Counselor = string(m.Author), m.CounselorID.Int64
	}
	return i
}

// Seal seals a message's body and photo to each recipient, each ciphertext
// bound by its HPKE info to school, tip, message, part and author. It is
// the sealed path for reporters' and system messages, which no counselor
// writes; a counselor's reply or note goes through Append, which binds
// the counselor too. It runs before the write transaction so that sealing
// happens in parallel.
func Seal(schoolID int64, tipUID string, author hotline.AuthorKind, text string, photo *hotline.Photo, to Recipients) (*store.SealedMessage, error) {
	return seal(nil, schoolID, tipUID, author, 0, text, photo, to)
}

// SealPrepared is Seal with the body's encapsulations made ahead of time
// (see Prepare); pre may be nil. A prepared body is a reporter's: pre with
// another author is refused.
func SealPrepared(pre *Prepared, schoolID int64, tipUID string, author hotline.AuthorKind, text string, photo *hotline.Photo, to Recipients) (*store.SealedMessage, error) {
	if pre != nil && author != preparedAuthor {
		return nil, fmt.Errorf("thread: a prepared message is the reporter's, not %q", author)
	}
	return seal(pre, schoolID, tipUID, author, 0, text, photo, to)
}

// seal seals a new message, written by author (and counselorID, 0 for
// none), under the current label version.
func seal(pre *Prepared, schoolID int64, tipUID string, author hotline.AuthorKind, counselorID int64, text string, photo *hotline.Photo, to Recipients) (*store.SealedMessage, error) {
	m := &store.SealedMessage{UID: vault.NewID(), Author: author, SealVersion: vault.InfoV2}
	m.CounselorID.Int64, m.CounselorID.Valid = counselorID, counselorID != 0
	var school, reporter *vault.Sealer
	if pre != nil {
		m.UID, school = pre.UID, pre.school
		if to.Reporter != nil {
			reporter = pre.reporter
		}
	}
	var p []byte
	if photo != nil {
		p = encodePhoto(photo)
	}
	body := []byte(text)
	if err := sealCopy(m, schoolID, tipUID, ReadSchool, to.School, school, body, p); err != nil {
		return nil, err
	}
	if err := sealCopy(m, schoolID, tipUID, ReadReporter, to.Reporter, reporter, body, p); err != nil {
		return nil, err
	}
	if err := sealCopy(m, schoolID, tipUID, ReadDistrict, to.District, nil, body, p); err != nil {
		return nil, err
	}
	return m, nil
}

// sealCopy seals one reader's copy of a message (nothing when pub is nil):
// the body always, the photo when there is one. A prepared sealer, when
// given, seals the body.
func sealCopy(m *store.SealedMessage, schoolID int64, tipUID string, who Reader, pub []byte, pre *vault.Sealer, body, photo []byte) error {
	if pub == nil {
		return nil
	}
	bodyPart, photoPart := who.parts()
	bodyCol, photoCol := who.columns(m)
	var err error
	if pre != nil {
		*bodyCol, err = pre.Seal(body)
	} else {
		*bodyCol, err = vault.Seal(pub, info(schoolID, tipUID, m, bodyPart), body)
	}
	if err != nil {
		return fmt.Errorf("seal %s: %w", bodyPart, err)
	}
	if photo != nil {
		if *photoCol, err = vault.Seal(pub, info(schoolID, tipUID, m, photoPart), photo); err != nil {
			return fmt.Errorf("seal %s: %w", photoPart, err)
		}
	}
	return nil
}

// Open opens a stored message with a key: the school's, a reporter's or
// the district's. A purged message opens to an empty body.
func Open(k *vault.PrivateKey, who Reader, schoolID int64, tipUID string, m *store.SealedMessage) (*hotline.Message, error) {
	out := m.Message()
	bodyPart, photoPart := who.parts()
	bodyCol, photoCol := who.columns(m)
	if *bodyCol != nil {
		plain, err := vault.Open(k, info(schoolID, tipUID, m, bodyPart), *bodyCol)
		if err != nil {
			return nil, fmt.Errorf("open message %d: %w", m.ID, err)
		}
		out.Body = string(plain)
	}
	out.HasPhoto = *photoCol != nil
	if *photoCol != nil {
		plain, err := vault.Open(k, info(schoolID, tipUID, m, photoPart), *photoCol)
		if err != nil {
			return nil, fmt.Errorf("open photo of message %d: %w", m.ID, err)
		}
		out.Photo = decodePhoto(plain)
	}
	return out, nil
}

// AddDistrictCopy seals the district's copy of a message that was sealed
// before its case was escalated but is stored after: the rare race between
// a new message and an escalation, settled inside the write transaction so
// that no message of an escalated case lacks the district's copy.
func AddDistrictCopy(m *store.SealedMessage, schoolID int64, tipUID, text string, photo *hotline.Photo, districtPub []byte) error {
	if districtPub == nil || m.DistrictSealed != nil || m.PhotoDistrictSealed != nil {
		return nil
	}
	var p []byte
	if photo != nil {
		p = encodePhoto(photo)
	}
	return sealCopy(m, schoolID, tipUID, ReadDistrict, districtPub, nil, []byte(text), p)
}

// CopyForDistrict opens the school's copy of a stored message with the
// school key and seals it again to the district (escalation): the body
// when the message still has one, the photo when it has one. It returns
// the district's body and photo ciphertexts.
func CopyForDistrict(k *vault.PrivateKey, schoolID int64, tipUID string, m *store.SealedMessage, districtPub []byte) (body, photo []byte, err error) {
	msg, err := Open(k, ReadSchool, schoolID, tipUID, m)
	if err != nil {
		return nil, nil, err
	}
	if m.BodySealed != nil {
		if body, err = vault.Seal(districtPub, info(schoolID, tipUID, m, PartDistrictBody), []byte(msg.Body)); err != nil {
			return nil, nil, fmt.Errorf("seal district copy: %w", err)
		}
	}
	if msg.Photo != nil {
		if photo, err = vault.Seal(districtPub, info(schoolID, tipUID, m, PartDistrictPhoto), encodePhoto(msg.Photo)); err != nil {
			return nil, nil, fmt.Errorf("seal district photo: %w", err)
		}
	}
	return body, photo, nil
}

// A sealed photo is its content type, a newline, then its bytes.
func encodePhoto(p *hotline.Photo) []byte {
	b := make([]byte, 0, len(p.Type)+1+len(p.Data))
	b = append(b, p.Type...)
	b = append(b, '\n')
	return append(b, p.Data...)
}

func decodePhoto(b []byte) *hotline.Photo {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || i > 64 {
		return &hotline.Photo{Data: b, Type: "application/octet-stream"}
	}
	return &hotline.Photo{Type: string(b[:i]), Data: b[i+1:]}
}
