package webchat

// Photos: binary frames with a JSON header, read and decoded a few at a
// time.

import (
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// Frame sizes beyond the text limit up to this hard cap are read and
// discarded with an error frame, so the connection survives; beyond it the
// websocket is closed with 1009.
const photoHeaderMax = 2048

// handlePhoto reads a binary frame: a JSON header line, then the image.
// Only a few photos are read and decoded at once; the others are refused
// with "busy" and the page sends them again.
func (c *wsConn) handlePhoto(r io.Reader) error {
	var hdr [photoHeaderMax]byte
	n := 0
	for n < len(hdr) {
		if _, err := io.ReadFull(r, hdr[n:n+1]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				c.refuse("", codeBadJSON)
				return nil
			}
			return err
		}
		if hdr[n] == '\n' {
			break
		}
		n++
	}
	var f inFrame
	if n == len(hdr) || !utf8.Valid(hdr[:n]) || json.Unmarshal(hdr[:n], &f) != nil || f.Type != "photo" {
		_, err := io.Copy(io.Discard, r)
		c.refuse("", codeBadJSON)
		return err
	}
	if c.sess == nil || !validID(f.ID) || f.V != protocolVersion {
		_, err := io.Copy(io.Discard, r)
		code := codeHelloFirst
		if c.sess != nil {
			code = codeBadID
		}
		c.refuse(f.ID, code)
		return err
	}
	// A client's photos are rationed before one takes a decode slot, so
	// that one client cannot keep the slots to itself.
	if ok, _ := c.h.s.limits.Allow(c.client, actPhoto); !ok {
		_, err := io.Copy(io.Discard, r)
		c.refuse(f.ID, codeRateLimited)
		return err
	}
	select {
	case c.h.photos <- struct{}{}:
	default:
		_, err := io.Copy(io.Discard, r)
		c.direct(c.errorFrame(f.ID, codeBusy))
		return err
	}
	defer func() { <-c.h.photos }()
	data, err := io.ReadAll(io.LimitReader(r, c.h.s.Limits.PhotoBytes+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > c.h.s.Limits.PhotoBytes {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		c.refuse(f.ID, codeTooLarge)
		return nil
	}
	c.message(&f, data)
	return nil
}
