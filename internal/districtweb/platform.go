package districtweb

import (
	"context"
	"net/http"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// platformView is the settings page's section on the district's own
// platform: its webhook endpoints, what was sent lately, the statistics
// tokens; and, right after making one, the secret or token to copy (shown
// this once).
type platformView struct {
	Endpoints  []*store.WebhookEndpoint
	Rows       []*store.WebhookOut
	Waiting    int
	Abandoned  int
	Tokens     []*store.StatsToken
	NewToken   string
	NewSecret  string
	Done       string // test_ok, test_failed
	TestReason string
	FormURL    string
}

func (h *Handler) platformView(ctx context.Context, sess *staff.Session) (*platformView, error) {
	pf := h.cfg.Platform
	if pf == nil {
		return nil, nil
	}
	v := &platformView{}
	var err error
	if v.Endpoints, err = pf.Endpoints(ctx, sess); err != nil {
		return nil, err
	}
	if v.Rows, v.Waiting, v.Abandoned, err = pf.Deliveries(ctx, sess, 12); err != nil {
		return nil, err
	}
	if v.Tokens, err = pf.Tokens(ctx, sess); err != nil {
		return nil, err
	}
	return v, nil
}

// fillPlatform adds the platform section to a settings page.
func (h *Handler) fillPlatform(r *http.Request, sess *staff.Session, p *settingsPage) error {
	v, err := h.platformView(r.Context(), sess)
	if err != nil {
		return err
	}
	if v != nil {
		v.Done = r.URL.Query().Get("platform")
		v.TestReason = r.URL.Query().Get("reason")
	}
	p.Platform = v
	return nil
}

// renderPlatform renders the settings page with the platform section as
// fill leaves it: a secret or token shown once, or a mistake.
func (h *Handler) renderPlatform(w http.ResponseWriter, r *http.Request, sess *staff.Session, status int, err error, fill func(*platformView)) {
	d, derr := h.cfg.District.Deadlines(r.Context(), sess.Counselor.District)
	if derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	p := h.settingsPage(r, sess, d)
	if p.Alerts, derr = h.alertsView(r.Context(), sess); derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	if derr = h.fillPlatform(r, sess, p); derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	if p.Platform != nil && fill != nil {
		fill(p.Platform)
	}
	if err != nil {
		p.Error = hotline.ErrorMessage(err, p.Lang)
	}
	// A page that shows a secret once is never cached.
	w.Header().Set("Cache-Control", "no-store")
	h.pages.Render(w, status, "settings", p)
}

func (h *Handler) platformOff(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Platform == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return true
	}
	return false
}

// handleEndpointAdd links an endpoint; a secret made for it is shown once.
func (h *Handler) handleEndpointAdd(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.platformOff(w, r) {
		return
	}
	url := r.FormValue("url")
	_, made, err := h.cfg.Platform.AddEndpoint(r.Context(), sess, url, r.FormValue("secret"))
	switch {
	case hotline.ErrorCode(err) == hotline.EINVALID:
		h.renderPlatform(w, r, sess, http.StatusBadRequest, err, func(v *platformView) { v.FormURL = url })
	case err != nil:
		h.fail(w, r, err, 0)
	case made != "":
		h.renderPlatform(w, r, sess, http.StatusOK, nil, func(v *platformView) { v.NewSecret = made })
	default:
		http.Redirect(w, r, "/district/settings?saved=1#platform", http.StatusSeeOther)
	}
}

func (h *Handler) handleEndpointDelete(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.platformOff(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.cfg.Platform.DeleteEndpoint(r.Context(), sess, id); err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#platform", http.StatusSeeOther)
}

// handleEndpointTest sends a signed webhook.test at once and says how it
// went.
func (h *Handler) handleEndpointTest(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.platformOff(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	res, err := h.cfg.Platform.TestEndpoint(r.Context(), sess, id)
	if err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	done := "test_ok"
	if !res.OK {
		done = "test_failed"
	}
	http.Redirect(w, r, "/district/settings?platform="+done+"#endpoint-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// handleTokenCreate makes a statistics token and shows it, this once.
func (h *Handler) handleTokenCreate(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.platformOff(w, r) {
		return
	}
	token, err := h.cfg.Platform.CreateToken(r.Context(), sess, r.FormValue("label"))
	switch {
	case hotline.ErrorCode(err) == hotline.EINVALID:
		h.renderPlatform(w, r, sess, http.StatusBadRequest, err, nil)
	case err != nil:
		h.fail(w, r, err, 0)
	default:
		h.renderPlatform(w, r, sess, http.StatusOK, nil, func(v *platformView) { v.NewToken = token })
	}
}

func (h *Handler) handleTokenRevoke(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.platformOff(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.cfg.Platform.RevokeToken(r.Context(), sess, id); err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#tokens", http.StatusSeeOther)
}

// Row state words for the deliveries table.
func (p *page) RowState(o *store.WebhookOut) string {
	switch {
	case !o.DeliveredAt.IsZero():
		return p.T("pf_delivered")
	case !o.AbandonedAt.IsZero():
		return p.T("pf_abandoned")
	case o.Attempts > 0:
		return p.T("pf_retrying")
	}
	return p.T("pf_waiting")
}

// platformLabels are the platform section's words.
var platformLabels = map[string]hotline.Label{
	"pf_title":       {ZH: "对接本区平台（平安校园平台）", EN: "Connecting the district's own platform"},
	"pf_hint":        {ZH: "Hotline 把不含内容的事件（新报告的渠道和情节、超时、上报、办结、问卷结束（只含 5 人以上的数字）、台账校验值）用 HMAC-SHA256 签名后推送到这里，失败会自动重试，每个事件有固定的编号以便去重。每条消息都带有当时的台账校验值。", EN: "Hotline posts content-free events (a report's channel and severity, missed deadlines, escalations, closures, questionnaires closed with counts of 5 or more only, ledger heads) here, signed with HMAC-SHA256, retried until they arrive, each with a fixed id to drop duplicates by. Every message carries the ledger's head of its moment."},
	"pf_endpoints":   {ZH: "推送地址", EN: "Webhook endpoints"},
	"pf_url":         {ZH: "地址（https://…）", EN: "URL (https://…)"},
	"pf_secret":      {ZH: "签名密钥（留空则自动生成，只显示一次）", EN: "Signing secret (leave empty to have one made, shown once)"},
	"pf_add":         {ZH: "添加", EN: "Add"},
	"pf_test":        {ZH: "发送测试事件", EN: "Send a test event"},
	"pf_delete":      {ZH: "删除", EN: "Remove"},
	"pf_none":        {ZH: "还没有推送地址。", EN: "No endpoint yet."},
	"pf_ok":          {ZH: "最近一次推送成功", EN: "Last delivery succeeded"},
	"pf_failed":      {ZH: "最近一次推送失败", EN: "Last delivery failed"},
	"pf_untried":     {ZH: "尚未推送", EN: "Nothing sent yet"},
	"pf_new_secret":  {ZH: "签名密钥（只显示这一次，请复制到平台的设置里）：", EN: "The signing secret (shown this once: copy it into the platform's settings):"},
	"pf_test_ok":     {ZH: "测试事件已送达。", EN: "The test event arrived."},
	"pf_test_failed": {ZH: "测试事件没有送达，原因见下。", EN: "The test event did not arrive; the reason is below."},
	"pf_recent":      {ZH: "最近的推送", EN: "Recent deliveries"},
	"pf_counts":      {ZH: "等待中 %d 条，已放弃 %d 条（超过 7 天仍未送达）", EN: "%d waiting, %d given up (not delivered within 7 days)"},
	"pf_event":       {ZH: "事件", EN: "Event"},
	"pf_id":          {ZH: "编号", EN: "Id"},
	"pf_state":       {ZH: "状态", EN: "State"},
	"pf_attempts":    {ZH: "尝试次数", EN: "Attempts"},
	"pf_code":        {ZH: "结果", EN: "Result"},
	"pf_delivered":   {ZH: "已送达", EN: "delivered"},
	"pf_abandoned":   {ZH: "已放弃", EN: "given up"},
	"pf_retrying":    {ZH: "重试中", EN: "retrying"},
	"pf_waiting":     {ZH: "等待发送", EN: "waiting"},
	"pf_tokens":      {ZH: "统计数据接口令牌", EN: "Statistics endpoint tokens"},
	"pf_tokens_hint": {ZH: "平台用令牌读取本页的统计数字（JSON）：GET /api/district/v1/stats，请求头 Authorization: Bearer 令牌。服务器只保存令牌的密钥哈希；令牌只在生成时显示一次，可随时撤销。", EN: "The platform reads this page's figures (JSON) with a token: GET /api/district/v1/stats with the header Authorization: Bearer TOKEN. The server keeps only a keyed hash of each token; a token is shown once, when made, and can be revoked at any time."},
	"pf_label":       {ZH: "名称（例如：平安校园平台）", EN: "Name (e.g. safe-campus platform)"},
	"pf_make_token":  {ZH: "生成令牌", EN: "Make a token"},
	"pf_new_token":   {ZH: "新令牌（只显示这一次，请立即复制）：", EN: "The new token (shown this once: copy it now):"},
	"pf_revoke":      {ZH: "撤销", EN: "Revoke"},
	"pf_revoked":     {ZH: "已撤销", EN: "revoked"},
	"pf_used":        {ZH: "最近使用", EN: "Last used"},
	"pf_created":     {ZH: "生成于", EN: "Made"},
	"pf_no_tokens":   {ZH: "还没有令牌。", EN: "No token yet."},
}

func init() {
	for k, v := range platformLabels {
		labels[k] = v
	}
}
