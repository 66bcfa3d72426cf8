package wechat

import (
	"context"
	"errors"
	"fmt"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/store"
	"hotline/internal/thread"
)

// Deliver sends one counselor reply, or one notice of the system, for the
// relay: one attempt, whose outcome the relay records and retries. While
// the reporter's 48-hour window is open it goes through the customer-
// service API. After it (by our clock, or WeChat's 45015/45047) the reply
// cannot go: the content-free notice is sent once, if the account has a
// template for it, and the reply is held (relay.ErrUnreachable) until the
// reporter writes again, which releases it.
func (s *Service) Deliver(ctx context.Context, p *relay.Payload) error {
	if p.Kind != relay.KindReply && p.Kind != relay.KindAutoSent {
		return relay.ErrRejected
	}
	peer, err := s.db.WechatPeer(ctx, p.ChatID)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return relay.ErrUnreachable
	} else if err != nil {
		return fmt.Errorf("wechat: deliver: %w", err)
	}
	a := s.accounts[peer.Account]
	if a == nil {
		// The account was removed from the configuration.
		return relay.ErrUnreachable
	}
	openID, err := s.vault.OpenServer(openIDPurpose(peer.PeerID), peer.OpenIDSealed)
	if err != nil {
		return relay.ErrRejected
	}
	defer clear(openID)
	if !s.now().Before(peer.LastIn().Add(s.cfg.Window)) {
		return s.windowClosed(ctx, a, peer, string(openID))
	}
	err = s.deliver(ctx, a, string(openID), p)
	switch code := apiCode(err); {
	case err == nil:
		return nil
	case code == codeWindowClosed, code == codeQuota:
		return s.windowClosed(ctx, a, peer, string(openID))
	case code == codeUnsubscribed, code == codeInvalidOpenID:
		return relay.ErrUnreachable
	case code == codeBusy:
		return fmt.Errorf("wechat: deliver: %s: %w", errKind(err), relay.ErrServer)
	case code != 0:
		return relay.ErrRejected
	case transient(err):
		var se *statusError
		if errors.As(err, &se) || errors.Is(err, ErrGarbled) {
			return fmt.Errorf("wechat: deliver: %s: %w", errKind(err), relay.ErrServer)
		}
	}
	return fmt.Errorf("wechat: deliver: %s", errKind(err))
}

func (s *Service) deliver(ctx context.Context, a *account, openID string, p *relay.Payload) error {
	lang := hotline.ParseLang(string(p.Lang))
	var text string
	switch {
	case p.Kind == relay.KindAutoSent:
		text = dialog.AutoSentNotice(lang, p.Alias, p.OnCall, p.Possibly)
	case len(p.Photo) > 0:
		if err := a.client.sendImage(ctx, openID, p.Photo, p.PhotoType); err != nil {
			return err
		}
		text = thread.PushedPhoto(lang, p.Alias)
		if p.Text != "" {
			text = thread.PushedReply(lang, p.Alias, p.Text)
		}
	default:
		text = thread.PushedReply(lang, p.Alias, p.Text)
	}
	for _, t := range splitText(neutral(text), maxPart) {
		if err := a.client.sendText(ctx, openID, t); err != nil {
			return err
		}
	}
	return nil
}

// windowClosed sends the content-free notice once per closed window (the
// claim is in the database, so one notice however many replies wait and
// however many nodes deliver) and holds the reply.
func (s *Service) windowClosed(ctx context.Context, a *account, peer *store.WechatPeer, openID string) error {
	if a.NoticeTemplate == "" {
		return relay.ErrUnreachable
	}
	var claimed bool
	if err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		claimed, err = tx.ClaimWechatNotice(peer.PeerID)
		return err
	}); err != nil {
		return fmt.Errorf("wechat: notice claim: %w", err)
	}
	if !claimed {
		return relay.ErrUnreachable
	}
	err := s.retry(ctx, func(cctx context.Context) error { return a.client.sendNotice(cctx, openID) })
	if err != nil {
		s.log.Warn("wechat: new-reply notice not sent", "kind", errKind(err))
	}
	return relay.ErrUnreachable
}
