package webchat

// Photos: binary frames with a JSON header, read whole under a deadline,
// then decoded within the process-wide decode budget.

import (
	"encoding/json"
	"errors"
	"io"
	"time"
	"unicode/utf8"
)

// Frame sizes beyond the text limit up to this hard cap are read and
// discarded with an error frame, so the connection survives; beyond it the
// websocket is closed with 1009.
const photoHeaderMax = 2048

// handlePhoto reads a binary frame: a JSON header line, then the image.
// The frame is read whole, within Limits.BodyReadWait, before the decode
// budget is asked for: a slow upload holds its own memory only, never a
// decode. At most Limits.PhotoUploads frames are read at once; the others
// are refused with "busy" and the page sends them again.
func (c *wsConn) handlePhoto(r io.Reader) error {
	c.frameDeadline = time.Now().Add(c.h.s.Limits.BodyReadWait)
	c.ws.SetReadDeadline(c.frameDeadline)
	defer func() {
		c.frameDeadline = time.Time{}
		c.ws.SetReadDeadline(time.Now().Add(c.h.s.Limits.PongWait))
	}()
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
	// A client's photos are rationed before one is read into memory, so
	// that one client cannot take every upload's place.
	if ok, _ := c.h.s.limits.Allow(c.client, actPhoto); !ok {
		_, err := io.Copy(io.Discard, r)
		c.refuse(f.ID, codeRateLimited)
		return err
	}
	select {
	case c.h.uploads <- struct{}{}:
	default:
		_, err := io.Copy(io.Discard, r)
		c.direct(c.errorFrame(f.ID, codeBusy))
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r, c.h.s.Limits.PhotoBytes+1))
	<-c.h.uploads // the bytes are ours now; decoding is bounded by CleanPhoto
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
