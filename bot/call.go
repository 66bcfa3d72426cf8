package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	tgbot "github.com/go-telegram/bot"
)

// methodURL is the Bot API URL of method. It holds the token: it must not
// reach an error or a log.
func (b *Bot) methodURL(method string) string {
	base := b.cfg.APIURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	return strings.TrimRight(base, "/") + "/bot" + b.cfg.Token + "/" + method
}

// call posts params to method as one JSON body and reads only whether it
// was done. The replies of a conversation (sendMessage) and the answers
// to its buttons (answerCallbackQuery) go this way, each on a Telegram
// step's path: the library streams every request as a multipart form
// through a pipe filled by a goroutine of its own, two more hand-offs per
// call for a loaded machine's scheduler, and decodes the whole message
// sent back, which nothing here reads. Its errors are the library's, so
// that retryable and errKind judge both alike.
func (b *Bot) call(ctx context.Context, method string, params any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("bot: %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.methodURL(method), bytes.NewReader(body))
	if err != nil {
		return errDownload
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = "(Bot API)" // it holds the token
			return ue
		}
		return errDownload
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return errDownload
	}
	var ans struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if json.Unmarshal(data, &ans) != nil {
		// Not the API's answer (a proxy's page): judged by its status.
		code := resp.StatusCode
		if code == http.StatusOK {
			code = http.StatusBadGateway
		}
		return &statusError{code}
	}
	if ans.OK {
		return nil
	}
	code := ans.ErrorCode
	if code == 0 {
		code = resp.StatusCode
	}
	switch code {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, ans.Description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, ans.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tgbot.ErrorUnauthorized, ans.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tgbot.ErrorNotFound, ans.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tgbot.ErrorConflict, ans.Description)
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tgbot.ErrorTooManyRequests, ans.Description), RetryAfter: ans.Parameters.RetryAfter}
	case http.StatusOK:
		code = http.StatusBadGateway // "not ok" with a 200: not an answer
	}
	return &statusError{code}
}
