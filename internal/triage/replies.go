package triage

import (
	"context"
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/thread"
)

// MaxSavedReplies bounds a school's saved replies: a list to pick from in
// one glance, not an archive.
const MaxSavedReplies = 100

// maxSavedTitle bounds a saved reply's title in runes.
const maxSavedTitle = 60

// SavedReplies lists the actor's school's saved replies. Every member of
// the school's staff may use and manage them; district officers have none.
func (s *Service) SavedReplies(ctx context.Context, actor hotline.Actor) ([]*store.SavedReply, error) {
	if err := schoolStaff(actor); err != nil {
		return nil, err
	}
	return s.DB.SavedReplies(ctx, actor.SchoolID)
}

// SavedReply returns one of the actor's school's saved replies.
func (s *Service) SavedReply(ctx context.Context, actor hotline.Actor, id int64) (*store.SavedReply, error) {
	if err := schoolStaff(actor); err != nil {
		return nil, err
	}
	return s.DB.SavedReply(ctx, actor.SchoolID, id)
}

// SaveReply adds (id 0) or changes a saved reply of the actor's school.
func (s *Service) SaveReply(ctx context.Context, actor hotline.Actor, id int64, lang hotline.Lang, title, body string) (*store.SavedReply, error) {
	if err := schoolStaff(actor); err != nil {
		return nil, err
	}
	r := &store.SavedReply{ID: id, SchoolID: actor.SchoolID, Lang: lang, CreatedBy: actor.CounselorID}
	if lang != hotline.LangZH && lang != hotline.LangEN {
		return nil, hotline.Errorf(hotline.EINVALID, "请选择中文或英文。", "Choose Chinese or English.")
	}
	title = strings.Join(strings.Fields(title), " ")
	if !utf8.ValidString(title) {
		return nil, hotline.ErrInvalidUTF8
	}
	if title == "" || utf8.RuneCountInString(title) > maxSavedTitle {
		return nil, hotline.Errorf(hotline.EINVALID, "标题必填，最多 60 个字。", "A title is needed, at most 60 characters.")
	}
	var err error
	if r.Body, err = thread.ValidateText(body); err != nil {
		return nil, err
	}
	r.Title = title
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if id != 0 {
			return tx.UpdateSavedReply(r)
		}
		n, err := tx.CountSavedReplies(actor.SchoolID)
		if err != nil {
			return err
		}
		if n >= MaxSavedReplies {
			return hotline.Errorf(hotline.ECONFLICT, "常用回复最多 100 条，请先删除不用的。", "At most 100 saved replies; delete one you no longer use first.")
		}
		return tx.InsertSavedReply(r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteSavedReply deletes a saved reply of the actor's school.
func (s *Service) DeleteSavedReply(ctx context.Context, actor hotline.Actor, id int64) error {
	if err := schoolStaff(actor); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSavedReply(actor.SchoolID, id) })
}

func schoolStaff(actor hotline.Actor) error {
	if actor.SchoolID == 0 || (actor.Role != hotline.RoleCounselor && actor.Role != hotline.RoleAdmin) {
		return hotline.ErrNotFound
	}
	return nil
}
