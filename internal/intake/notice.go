package intake

import (
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/store"
)

// noticeAutoSent queues, in the transaction that files the tip, the notice
// that tells a Telegram or WeChat reporter their draft was sent to the
// school automatically — urgent, or possibly urgent because they did not
// answer the safety question — so that they hear of it at once rather
// than at their next message, and hear of it even if the process stops
// right after. The notice carries the alias and the school's time to act,
// never content. It reports whether a notice was queued: only for a chat
// report the sweeper sent.
func (s *Service) noticeAutoSent(tx *store.Tx, sub hotline.Submission, tip *hotline.Tip, school *hotline.School) (bool, error) {
	if !sub.Auto || !(tip.Urgent || tip.PossiblyUrgent) || !sub.Channel.Chat() {
		return false, nil
	}
	lang := hotline.ParseLang(string(sub.Lang))
	dl := school.Settings.Deadlines.WithDefaults()
	p := &relay.Payload{Kind: relay.KindAutoSent, Channel: relay.PayloadChannel(sub.Channel), ChatID: sub.ChatID, Alias: tip.Alias.In(lang), Lang: lang, TipUID: tip.UID,
		OnCall: dl.AckUrgent.D()}
	if !tip.Urgent {
		p.Possibly, p.OnCall = true, dl.Ack.D()
	}
	if err := relay.Enqueue(tx, s.Vault, 0, p); err != nil {
		return false, err
	}
	return true, nil
}
