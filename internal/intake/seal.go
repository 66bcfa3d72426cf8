package intake

import (
	"bytes"
	"fmt"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Recipients are the public keys a message is sealed to.
type Recipients struct {
	School   []byte // always
	Reporter []byte // a web reporter's receipt-derived key; nil for notes and Telegram
	District []byte // the district's key once a case is escalated; nil otherwise
}

// SealMessage seals a message's body and photo to each recipient, each
// ciphertext bound by its HPKE info to school, tip, message and part, so a
// ciphertext moved to another row or column does not open. It is the one
// sealed path for reporters' messages, counselors' replies and notes; it
// runs before the write transaction so that sealing happens in parallel.
func SealMessage(schoolID int64, tipUID string, author hotline.AuthorKind, text string, photo *hotline.Photo, to Recipients) (*store.SealedMessage, error) {
	return sealMessage(schoolID, tipUID, author, text, photo, to, nil)
}

// sealMessage seals a message, using prepared encapsulations for its body
// when pre is given.
func sealMessage(schoolID int64, tipUID string, author hotline.AuthorKind, text string, photo *hotline.Photo, to Recipients, pre *preparedMsg) (*store.SealedMessage, error) {
	m := &store.SealedMessage{UID: vault.NewID(), Author: author}
	if pre != nil {
		m.UID = pre.uid
	}
	info := func(part string) vault.Info {
		return vault.Info{School: schoolID, Tip: tipUID, Msg: m.UID, Part: part}
	}
	seal := func(pub []byte, part string, plain []byte) ([]byte, error) {
		if pub == nil {
			return nil, nil
		}
		ct, err := vault.Seal(pub, info(part), plain)
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", part, err)
		}
		return ct, nil
	}
	var err error
	body := []byte(text)
	if pre != nil && pre.school != nil {
		m.BodySealed, err = pre.school.Seal(body)
	} else {
		m.BodySealed, err = seal(to.School, "body", body)
	}
	if err != nil {
		return nil, err
	}
	if pre != nil && pre.reporter != nil && to.Reporter != nil {
		m.ReporterSealed, err = pre.reporter.Seal(body)
	} else {
		m.ReporterSealed, err = seal(to.Reporter, "reporter-body", body)
	}
	if err != nil {
		return nil, err
	}
	if m.DistrictSealed, err = seal(to.District, "district-body", body); err != nil {
		return nil, err
	}
	if photo != nil {
		p := encodePhoto(photo)
		if m.PhotoSealed, err = seal(to.School, "photo", p); err != nil {
			return nil, err
		}
		if m.PhotoReporterSealed, err = seal(to.Reporter, "reporter-photo", p); err != nil {
			return nil, err
		}
		if m.PhotoDistrictSealed, err = seal(to.District, "district-photo", p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Reader says which copy of a message to open.
type Reader int

// The copies of a message.
const (
	ReadSchool Reader = iota
	ReadReporter
	ReadDistrict
)

// OpenMessage opens a stored message with a key: the school's, a reporter's
// or the district's. A purged message opens to an empty body.
func OpenMessage(k *vault.PrivateKey, who Reader, schoolID int64, tipUID string, m *store.SealedMessage) (*hotline.Message, error) {
	out := m.Message()
	body, photo, prefix := m.BodySealed, m.PhotoSealed, ""
	switch who {
	case ReadReporter:
		body, photo, prefix = m.ReporterSealed, m.PhotoReporterSealed, "reporter-"
	case ReadDistrict:
		body, photo, prefix = m.DistrictSealed, m.PhotoDistrictSealed, "district-"
	}
	info := func(part string) vault.Info {
		return vault.Info{School: schoolID, Tip: tipUID, Msg: m.UID, Part: prefix + part}
	}
	if body != nil {
		plain, err := vault.Open(k, info("body"), body)
		if err != nil {
			return nil, fmt.Errorf("open message %d: %w", m.ID, err)
		}
		out.Body = string(plain)
	}
	if photo != nil {
		plain, err := vault.Open(k, info("photo"), photo)
		if err != nil {
			return nil, fmt.Errorf("open photo of message %d: %w", m.ID, err)
		}
		out.Photo = decodePhoto(plain)
		out.HasPhoto = true
	} else {
		out.HasPhoto = false
	}
	return out, nil
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

// AddDistrictCopy seals the district's copy of a message that was sealed
// before its case was escalated but is stored after: the rare race between
// a new message and an escalation, settled inside the write transaction so
// that no message of an escalated case lacks the district's copy.
func AddDistrictCopy(m *store.SealedMessage, schoolID int64, tipUID, text string, photo *hotline.Photo, districtPub []byte) error {
	if districtPub == nil || m.DistrictSealed != nil || m.PhotoDistrictSealed != nil {
		return nil
	}
	info := func(part string) vault.Info { return vault.Info{School: schoolID, Tip: tipUID, Msg: m.UID, Part: part} }
	var err error
	if m.DistrictSealed, err = vault.Seal(districtPub, info("district-body"), []byte(text)); err != nil {
		return err
	}
	if photo != nil {
		if m.PhotoDistrictSealed, err = vault.Seal(districtPub, info("district-photo"), encodePhoto(photo)); err != nil {
			return err
		}
	}
	return nil
}
