package staff

import (
	"context"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

type clientKey struct{}

// WithClient tells the staff service the coarse client of a request
// ("Chrome/Android", see CoarseClient), for the audit trail of log-ins.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// ClientOf returns the coarse client WithClient set, or "".
func ClientOf(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// Audit appends an entry for a staff member's action in tx: the school and
// district come from the member's account, so that both the school admin
// and the district can read it.
func Audit(tx *store.Tx, c *hotline.Counselor, kind hotline.AuditKind, tipID int64, client, detail string) error {
	e := &hotline.AuditEntry{Kind: kind, SchoolID: c.SchoolID, District: c.District, CounselorID: c.ID, TipID: tipID, Client: client, Detail: detail}
	if c.SchoolID != 0 {
		school, err := tx.SchoolByID(c.SchoolID)
		if err != nil {
			return err
		}
		e.District = school.District
	}
	return tx.AppendAudit(e)
}

// auditFailure records a refused log-in or code for an existing account in
// its own transaction: the attempt itself was counted on admission.
func (s *Service) auditFailure(ctx context.Context, c *hotline.Counselor, kind hotline.AuditKind) error {
	return s.DB.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return Audit(tx, c, kind, 0, ClientOf(ctx), "")
	})
}

// SchoolAudit returns a page of the audit trail of an admin's school,
// newest first (before an entry id; 0 for the newest).
func (s *Service) SchoolAudit(ctx context.Context, admin *Session, kind hotline.AuditKind, before int64) ([]*hotline.AuditEntry, error) {
	if admin.Counselor.Role != hotline.RoleAdmin || admin.Counselor.SchoolID == 0 {
		return nil, hotline.ErrForbidden
	}
	return s.DB.Audit(ctx, store.AuditFilter{SchoolID: admin.Counselor.SchoolID, Kind: kind, Before: before, Limit: 100})
}

// CoarseClient reduces a User-Agent header to a browser and system family
// ("Chrome/Android", "WeChat/iOS", "Firefox/Windows"): enough for an admin
// to tell "that was not me" in the audit trail, too little to single out a
// device. The header itself is never stored.
func CoarseClient(userAgent string) string {
	ua := strings.ToLower(userAgent)
	if ua == "" {
		return ""
	}
	browser := "other"
	for _, b := range []struct{ token, name string }{
		{"micromessenger", "WeChat"}, {"edg/", "Edge"}, {"opr/", "Opera"}, {"firefox/", "Firefox"},
		{"headlesschrome", "Chrome"}, {"chrome/", "Chrome"}, {"crios/", "Chrome"}, {"safari/", "Safari"}, {"go-http-client", "script"}, {"curl/", "script"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := "other"
	for _, o := range []struct{ token, name string }{
		{"android", "Android"}, {"iphone", "iOS"}, {"ipad", "iOS"}, {"windows", "Windows"}, {"mac os x", "macOS"}, {"cros", "ChromeOS"}, {"linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	return browser + "/" + system
}

// RecordPoster writes to the audit trail that a staff member downloaded
// the school's poster to print (what: "poster.pdf" or "poster.png"): the
// district's rollout tracker counts it as the poster printed.
func (s *Service) RecordPoster(ctx context.Context, sess *Session, what string) error {
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		return Audit(tx, sess.Counselor, hotline.AuditPosterDownloaded, 0, ClientOf(ctx), what)
	})
}
