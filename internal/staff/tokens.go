package staff

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Lifetimes of alert links: an urgent case's "I'm on it" link works for a
// day (the case is long overdue by then and the inbox is the place); a
// test's confirmation for a day too, so that a test sent in the evening
// can be confirmed next morning.
const (
	AckLinkTTL  = 24 * time.Hour
	TestLinkTTL = 24 * time.Hour
	// maxCodeTries bounds the guesses at a test's short code: six digits
	// and five tries leave a guesser one chance in 200 000.
	maxCodeTries = 5
)

const (
	tokenPurpose = "alert-link"
	codePurpose  = "alert-code"
)

// tokenEncoding is base32 without padding, lower case in links: easy on
// phones and in text messages, no characters a URL must escape.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// TokenMAC is the keyed hash under which an alert link's token is stored;
// the token itself never is.
func TokenMAC(v *vault.Vault, token string) []byte {
	return v.MAC(tokenPurpose, []byte(strings.ToUpper(strings.TrimSpace(token))))
}

func codeMAC(v *vault.Vault, token []byte, code string) []byte {
	return v.MAC(codePurpose, append(append([]byte{}, token...), code...))
}

// NewAlertToken makes a one-time link token (128 random bits) for tok
// within tx and stores only its keyed hash; it returns the token for the
// link. With withCode it also makes a six-digit code stored the same way,
// for channels that carry no link.
func NewAlertToken(tx *store.Tx, v *vault.Vault, tok *store.AlertToken, withCode bool) (token, code string, err error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	token = strings.ToLower(tokenEncoding.EncodeToString(raw))
	tok.MAC = TokenMAC(v, token)
	if withCode {
		n := make([]byte, 4)
		if _, err := rand.Read(n); err != nil {
			return "", "", err
		}
		code = strconv.Itoa(100000 + int((uint32(n[0])<<24|uint32(n[1])<<16|uint32(n[2])<<8|uint32(n[3]))%900000))
		tok.CodeMAC = codeMAC(v, tok.MAC, code)
	}
	if err := tx.AddAlertToken(tok); err != nil {
		return "", "", err
	}
	return token, code, nil
}

// Answers to an alert link that does not work, safe to show.
var (
	ErrLinkUnknown = hotline.Errorf(hotline.ENOTFOUND, "这个链接无效。请登录收件箱处理。", "This link is not valid. Log in to the inbox instead.")
	ErrLinkUsed    = hotline.Errorf(hotline.ECONFLICT, "这个链接已经用过了，每个链接只能用一次。", "This link was used already; each link works once.")
	ErrLinkExpired = hotline.Errorf(hotline.ECONFLICT, "这个链接已过期。请登录收件箱处理。", "This link has expired. Log in to the inbox instead.")
	ErrLinkRefused = hotline.Errorf(hotline.EFORBIDDEN, "这个链接不属于这所学校的老师，不能使用。", "This link does not belong to a staff member of this school and cannot be used.")
	errBadCode     = hotline.Errorf(hotline.EINVALID, "验证码不对。请核对短信或电话里的 6 位数字。", "Wrong code. Check the six digits in the text message or the call.")
	errNoTest      = hotline.Errorf(hotline.EINVALID, "没有等待确认的测试，或尝试次数太多。请重新发送测试提醒。", "No test waits for a code, or too many tries; send a new test alert.")
)

// LookupAlertToken finds the stored token of a link, whatever its state.
func (s *Service) LookupAlertToken(ctx context.Context, token string) (*store.AlertToken, error) {
	if len(token) < 20 || len(token) > 40 {
		return nil, ErrLinkUnknown
	}
	t, err := s.DB.AlertTokenByMAC(ctx, TokenMAC(s.Vault, token))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return nil, ErrLinkUnknown
	}
	return t, err
}

// ConfirmTest consumes a test alert's link: the target it was sent over
// works. A used or expired link is refused.
func (s *Service) ConfirmTest(ctx context.Context, token string) (*store.AlertTarget, error) {
	mac := TokenMAC(s.Vault, token)
	var target *store.AlertTarget
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		t, err := tx.AlertTokenByMAC(mac)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND || (err == nil && t.Purpose != store.TokenTest) {
			return ErrLinkUnknown
		} else if err != nil {
			return err
		}
		if !t.UsedAt.IsZero() {
			return ErrLinkUsed
		}
		if tx.Now().After(t.ExpiresAt) {
			return ErrLinkExpired
		}
		if ok, err := tx.UseAlertToken(mac); err != nil {
			return err
		} else if !ok {
			return ErrLinkUsed
		}
		if target, err = tx.AlertTargetByID(t.TargetID); err != nil {
			return ErrLinkUnknown // the target was removed since
		}
		return tx.MarkTargetVerified(t.TargetID)
	})
	return target, err
}

// ConfirmTestCode checks the six-digit code of a test sent over one of the
// scope's targets (a text message or a call carries no link): right, the
// target works; wrong, the try is counted, and after five the test must
// be sent again.
func (s *Service) ConfirmTestCode(ctx context.Context, sess *Session, scope Scope, targetID int64, code string) error {
	if _, err := s.TargetOf(ctx, sess, scope, targetID); err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	var wrong bool
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		wrong = false
		t, err := tx.LatestTestToken(targetID)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return errNoTest
		} else if err != nil {
			return err
		}
		if t.CodeMAC == nil || t.Tries >= maxCodeTries || tx.Now().After(t.ExpiresAt) {
			return errNoTest
		}
		if !vault.EqualMAC(codeMAC(s.Vault, t.MAC, code), t.CodeMAC) {
			wrong = true
			return tx.CountTokenTry(t.MAC) // committed: the try counts
		}
		if ok, err := tx.UseAlertToken(t.MAC); err != nil || !ok {
			return errNoTest
		}
		return tx.MarkTargetVerified(targetID)
	})
	if err == nil && wrong {
		return errBadCode
	}
	return err
}
