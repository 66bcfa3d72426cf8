package hotline

import (
	"errors"
	"fmt"
	"net/http"
)

// Application error codes. One place per transport maps them to an HTTP
// status or a bot reply.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ERATELIMIT    = "rate_limited"
)

// Error is an application error whose Message is safe to show to the user:
// it never holds tip content, a receipt or a chat id.
type Error struct {
	Code    string
	Message Label
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("hotline error: code=%s message=%s", e.Code, e.Message.EN)
}

// Errorf returns an application error with a message in both languages.
func Errorf(code string, zh, en string) *Error {
	return &Error{Code: code, Message: Label{ZH: zh, EN: en}}
}

// ErrorCode returns the code of the application error in err, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err in lang; internal errors get
// a generic message so that nothing of their text leaks to a user.
func ErrorMessage(err error, lang Lang) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message.In(lang)
	}
	// Only what is true whatever failed: this step did not happen; what
	// was confirmed earlier stays. (A promise that nothing is lost would be
	// false for the very message that failed.)
	return Label{"系统出了点问题，刚才这一步没有完成，请稍后再试。之前已经确认收到的内容都还在。", "Something went wrong on our side and that step did not go through; please try again later. What was confirmed as received before is still there."}.In(lang)
}

// Common errors.
var (
	ErrNotFound       = Errorf(ENOTFOUND, "找不到。", "Not found.")
	ErrUnauthorized   = Errorf(EUNAUTHORIZED, "请先登录。", "Please log in.")
	ErrForbidden      = Errorf(EFORBIDDEN, "你没有权限这样做。", "You are not allowed to do that.")
	ErrSchoolNotFound = Errorf(ENOTFOUND, "没有找到这所学校，请检查学校的名称或代码。", "No school with that name or code; please check it.")
	// ErrSchoolNotOpen answers whoever names a school that a district has
	// added but whose admin has not accepted the hand-over yet: it has no
	// key, so nothing could be sealed for it.
	ErrSchoolNotOpen  = Errorf(ENOTFOUND, "这所学校的举报渠道还没有开通，暂时不能接收报告。如有紧急危险，请马上告诉身边的老师、家长，或拨打 110。", "This school's hotline is not open yet and cannot take reports. If someone is in danger now, tell a teacher or a parent near you, or call 110.")
	ErrReceiptTypo    = Errorf(EINVALID, "这个回执码有输入错误，请再核对一遍。", "That receipt code has a typo; please check it again.")
	ErrReceiptUnknown = Errorf(ENOTFOUND, "没有找到这个回执码对应的报告。请再对照一遍你抄下的回执码；如果找不到了，可以写一份新的报告。", "No report matches that receipt code. Please check it against the one you saved; if it is lost, you can write a new report.")
	ErrReceiptInText  = Errorf(EINVALID, "你的消息里包含你的回执码。为了保护你，请不要把回执码发给任何人，包括老师。消息没有发送。", "Your message contains your receipt code. To protect you, never send it to anyone, counselors included. The message was not sent.")
	ErrEmptyMessage   = Errorf(EINVALID, "这条消息是空的，请写点什么再发送。", "That message is empty; please write something and send it again.")
	ErrInvalidUTF8    = Errorf(EINVALID, "消息含有无法识别的字符，请重新输入。", "The message contains invalid characters; please type it again.")
	ErrTooLong        = Errorf(ETOOLARGE, "消息太长了（最多 4096 字），请分几条发送。", "The message is too long (at most 4096 characters); please send it in parts.")
	ErrPhotoTooLarge  = Errorf(ETOOLARGE, "图片太大了（最多 10 MB，4000 万像素）。", "The photo is too large (at most 10 MB and 40 megapixels).")
	ErrPhotoInvalid   = Errorf(EINVALID, "无法识别这张图片，请发送 JPEG 或 PNG 照片。", "That image cannot be read; please send a JPEG or PNG photo.")
	ErrTipClosed      = Errorf(ECONFLICT, "这份报告已经关闭了。如果还有事情发生，请写一份新的报告，老师会看到。", "This report is closed. If something else happens, please write a new report; a counselor will see it.")
	ErrRateLimited    = Errorf(ERATELIMIT, "发送太快了，请稍等片刻再试。", "Too fast; please wait a moment and try again.")
)

// HTTPStatus maps an error's code to an HTTP status: the one place every
// web transport uses.
func HTTPStatus(err error) int {
	switch ErrorCode(err) {
	case "":
		return http.StatusOK
	case EINVALID:
		return http.StatusBadRequest
	case ENOTFOUND:
		return http.StatusNotFound
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ECONFLICT:
		return http.StatusConflict
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case ERATELIMIT:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}
