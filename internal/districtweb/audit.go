package districtweb

import (
	"net/http"
	"net/url"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

type auditPage struct {
	*page
	Entries []*hotline.AuditEntry
	Kinds   []hotline.AuditKind
	Kind    hotline.AuditKind
	Older   string
}

// handleAudit shows the district's audit trail: its officers' and its
// schools' log-ins, failed log-ins, key recoveries, password changes, case
// views and exports. Content-free, like the ledger.
func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	p := &auditPage{page: h.newPage(r, sess, "audit"), Kinds: hotline.AuditKinds, Kind: hotline.AuditKind(r.URL.Query().Get("kind"))}
	if p.Kind != "" && p.Kind.Label().ZH == string(p.Kind) {
		h.fail(w, r, hotline.Errorf(hotline.EINVALID, "记录类型无效。", "Invalid entry kind."), http.StatusBadRequest)
		return
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		var err error
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			h.fail(w, r, hotline.Errorf(hotline.EINVALID, "分页参数无效。", "Invalid page position."), http.StatusBadRequest)
			return
		}
	}
	entries, err := h.cfg.District.Audit(r.Context(), sess.Counselor.District, p.Kind, before)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.Entries = entries
	if len(entries) == 100 {
		p.Older = "/district/audit?" + url.Values{"kind": {string(p.Kind)}, "before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}.Encode()
	}
	h.pages.Render(w, http.StatusOK, "audit", p)
}

var auditLabels = map[string]hotline.Label{
	"audit":        {ZH: "操作记录", EN: "Audit trail"},
	"audit_hint":   {ZH: "本区各校人员和区教育局人员的登录（含失败）、恢复密钥、修改密码、查看案件和导出记录。不含任何举报内容，不记录 IP 地址，只记录浏览器和系统的大类。", EN: "Log-ins (failed ones too), key recoveries, password changes, case views and exports of the district's schools and officers. No report content; no IP address, only a browser and system family."},
	"audit_kind":   {ZH: "类型", EN: "Kind"},
	"audit_all":    {ZH: "全部", EN: "All"},
	"audit_filter": {ZH: "筛选", EN: "Filter"},
	"audit_time":   {ZH: "时间", EN: "Time"},
	"audit_school": {ZH: "学校", EN: "School"},
	"audit_who":    {ZH: "人员", EN: "Who"},
	"audit_case":   {ZH: "案件", EN: "Case"},
	"audit_client": {ZH: "浏览器/系统", EN: "Browser/system"},
	"audit_detail": {ZH: "说明", EN: "Detail"},
	"audit_none":   {ZH: "还没有记录。", EN: "Nothing recorded yet."},
	"audit_older":  {ZH: "更早的记录", EN: "Older entries"},
	"audit_dist":   {ZH: "区教育局", EN: "District"},
	"audit_nobody": {ZH: "（无账户）", EN: "(no account)"},
	"photo_alt":    {ZH: "报告中的图片（已去除位置等信息）", EN: "A photo of the report (location and camera data removed)"},
}

func init() {
	for k, v := range auditLabels {
		if _, dup := labels[k]; dup {
			panic("districtweb: label " + k + " defined twice")
		}
		labels[k] = v
	}
}
