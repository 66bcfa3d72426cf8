package triage

import (
	"context"
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/thread"
)

// Search bounds: one request opens at most SearchMaxTips cases (in queue
// order, a page of the school's queue at a time) and returns at most
// SearchMaxHits of them; the caller continues from Next. Sealed text is
// opened one case at a time and dropped once matched, so memory stays flat
// whatever the school's size.
const (
	SearchMaxTips  = 400
	SearchMaxHits  = 50
	searchPage     = 100
	searchMaxWords = 200 // bytes of query: a few words, not a document
	snippetRunes   = 40
)

// searchMaxTips and searchMaxHits are the bounds in force (tests lower them).
var searchMaxTips, searchMaxHits = SearchMaxTips, SearchMaxHits

// SearchHit is a case whose thread holds every word of a search, with a
// short excerpt around the first match.
type SearchHit struct {
	Tip     *hotline.Tip
	Snippet string
}

// SearchResult is one bounded pass of a word search.
type SearchResult struct {
	Hits []SearchHit
	// Scanned is how many cases were opened in this pass.
	Scanned int
	// Next is where to continue, nil when the school's cases matching the
	// filter are exhausted.
	Next *hotline.QueueCursor
}

// Search finds the actor's school's cases whose thread (reporter's words,
// replies and internal notes) contains every word of query, among the cases
// that match f. It reads the text the only way the server can: by opening
// each sealed message with the session's school key, in memory, for this
// request. No index of words is kept anywhere, so a stolen database holds
// none. A search never reaches another school: f.SchoolID is the
// session's.
func (s *Service) Search(ctx context.Context, sess *staff.Session, f hotline.TipFilter, query string) (*SearchResult, error) {
	actor := sess.Actor()
	if actor.SchoolID == 0 || (actor.Role != hotline.RoleCounselor && actor.Role != hotline.RoleAdmin) {
		return nil, hotline.ErrNotFound
	}
	words, err := searchWords(query)
	if err != nil {
		return nil, err
	}
	f.SchoolID = actor.SchoolID
	f.Limit = searchPage
	res := &SearchResult{}
	for {
		tips, next, err := s.DB.Queue(ctx, f, s.DB.Clock.Now())
		if err != nil {
			return nil, err
		}
		for i, t := range tips {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			snippet, ok, err := s.matchThread(ctx, sess, t, words)
			if err != nil {
				return nil, err
			}
			res.Scanned++
			if ok {
				res.Hits = append(res.Hits, SearchHit{Tip: t, Snippet: snippet})
			}
			if len(res.Hits) >= searchMaxHits || res.Scanned >= searchMaxTips {
				if i < len(tips)-1 || next != nil {
					res.Next = &hotline.QueueCursor{Urgent: t.Urgent, Due: t.NextDue(), ID: t.ID}
				}
				return res, nil
			}
		}
		if next == nil {
			return res, nil
		}
		f.After = next
	}
}

// searchWords splits a query into lower-case words; Chinese has no spaces,
// so a word is any run between spaces and each must appear as written.
func searchWords(q string) ([]string, error) {
	if !utf8.ValidString(q) {
		return nil, hotline.ErrInvalidUTF8
	}
	if len(q) > searchMaxWords {
		return nil, hotline.Errorf(hotline.EINVALID, "搜索词太长了。", "The search is too long.")
	}
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return nil, hotline.Errorf(hotline.EINVALID, "请输入要搜索的词。", "Enter words to search for.")
	}
	return words, nil
}

// matchThread opens a case's messages one by one and reports whether all
// words appear in them (not necessarily in one message), with an excerpt
// around the first word's first match.
func (s *Service) matchThread(ctx context.Context, sess *staff.Session, t *hotline.Tip, words []string) (string, bool, error) {
	if t.Purged {
		return "", false, nil
	}
	sealed, err := s.DB.MessageBodies(ctx, t.ID)
	if err != nil {
		return "", false, err
	}
	found := make([]bool, len(words))
	left := len(words)
	var snippet string
	for _, m := range sealed {
		if m.BodySealed == nil {
			continue
		}
		msg, err := thread.Open(sess.Key, thread.ReadSchool, t.SchoolID, t.UID, m)
		if err != nil {
			return "", false, err
		}
		body := strings.ToLower(msg.Body)
		for i, w := range words {
			if found[i] {
				continue
			}
			if at := strings.Index(body, w); at >= 0 {
				found[i] = true
				left--
				if snippet == "" {
					snippet = excerpt(msg.Body, body, at)
				}
			}
		}
		msg.Body = ""
		if left == 0 {
			return snippet, true, nil
		}
	}
	return "", false, nil
}

// excerpt cuts about snippetRunes runes either side of a match at byte
// offset at of lower (the lower-cased body). ToLower keeps the byte layout
// of almost all text; when it does not, the excerpt is taken from lower.
func excerpt(body, lower string, at int) string {
	src := body
	if len(lower) != len(body) {
		src = lower
	}
	start, end := at, at
	for n := 0; start > 0 && n < snippetRunes; n++ {
		_, size := utf8.DecodeLastRuneInString(src[:start])
		start -= size
	}
	for n := 0; end < len(src) && n < 2*snippetRunes; n++ {
		_, size := utf8.DecodeRuneInString(src[end:])
		end += size
	}
	out := strings.Join(strings.Fields(src[start:end]), " ")
	if start > 0 {
		out = "…" + out
	}
	if end < len(src) {
		out += "…"
	}
	return out
}
