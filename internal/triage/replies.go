package triage

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/thread"
)

// MaxSavedReplies bounds a school's saved replies: a list to pick from in
// one glance, not an archive.
const MaxSavedReplies = 100

// maxSavedTitle bounds a saved reply's title in runes.
const maxSavedTitle = 60

// SavedReplies lists the actor's school's saved replies. Every member of
// the school's staff may use them and add new ones; a reply is changed or
// deleted only by the one who wrote it or a school admin, and every
// addition, change and deletion is in the school's audit trail with who
// made it. District officers have none.
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
			old, err := mayChangeReply(tx, actor, id)
			if err != nil {
				return err
			}
			r.CreatedBy = old.CreatedBy
			if err := tx.UpdateSavedReply(r); err != nil {
				return err
			}
			return auditReply(ctx, tx, actor, "changed", r)
		}
		n, err := tx.CountSavedReplies(actor.SchoolID)
		if err != nil {
			return err
		}
		if n >= MaxSavedReplies {
			return hotline.Errorf(hotline.ECONFLICT, "常用回复最多 100 条，请先删除不用的。", "At most 100 saved replies; delete one you no longer use first.")
		}
		if err := tx.InsertSavedReply(r); err != nil {
			return err
		}
		return auditReply(ctx, tx, actor, "added", r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteSavedReply deletes a saved reply of the actor's school: its
// author's, or any for a school admin.
func (s *Service) DeleteSavedReply(ctx context.Context, actor hotline.Actor, id int64) error {
	if err := schoolStaff(actor); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		old, err := mayChangeReply(tx, actor, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteSavedReply(actor.SchoolID, id); err != nil {
			return err
		}
		return auditReply(ctx, tx, actor, "deleted", old)
	})
}

// ErrNotYourReply refuses a change to another's saved reply.
var ErrNotYourReply = hotline.Errorf(hotline.EFORBIDDEN, "这条常用回复是别的老师写的：只有作者或学校管理员能修改或删除。可以另存一条新的。",
	"Another staff member wrote this saved reply: only they or a school admin may change or delete it. You can save a new one.")

// MayChangeReply reports whether actor may change or delete r: its
// author, or a school admin.
func MayChangeReply(actor hotline.Actor, r *store.SavedReply) bool {
	return actor.Role == hotline.RoleAdmin || r.CreatedBy == actor.CounselorID
}

func mayChangeReply(tx *store.Tx, actor hotline.Actor, id int64) (*store.SavedReply, error) {
	old, err := tx.SavedReplyForUpdate(actor.SchoolID, id)
	if err != nil {
		return nil, err
	}
	if !MayChangeReply(actor, old) {
		return nil, ErrNotYourReply
	}
	return old, nil
}

// auditReply records a saved reply's change with who made it: the reply's
// number and title (the school's own wording, never a case's).
func auditReply(ctx context.Context, tx *store.Tx, actor hotline.Actor, what string, r *store.SavedReply) error {
	school, err := tx.SchoolByID(actor.SchoolID)
	if err != nil {
		return err
	}
	return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditSavedReply, SchoolID: actor.SchoolID, District: school.District,
		CounselorID: actor.CounselorID, Client: staff.ClientOf(ctx), Detail: fmt.Sprintf("%s #%d %s", what, r.ID, r.Title)})
}

func schoolStaff(actor hotline.Actor) error {
	if actor.SchoolID == 0 || (actor.Role != hotline.RoleCounselor && actor.Role != hotline.RoleAdmin) {
		return hotline.ErrNotFound
	}
	return nil
}
