// Package telegramtest provides a fake Telegram Bot API server for tests.
//
// The server is built on net/http/httptest and speaks the wire format of the
// real Bot API closely enough for github.com/go-telegram/bot (and any other
// client) to be pointed at it with bot.WithServerURL(srv.URL()). Requests may
// be multipart/form-data, application/x-www-form-urlencoded or JSON; answers
// are {"ok":true,"result":…} or {"ok":false,"error_code":N,"description":…}.
//
// Simulated users ([User]) send text, commands, photos and press inline
// buttons; the resulting updates are served through getUpdates (long polling)
// or pushed to the webhook registered with setWebhook. Everything the bot
// sends is recorded per chat as [SentMessage] values that tests can inspect
// or wait for.
//
// Faults (429, 500, slow answers, dropped connections and "accepted but the
// answer lost") can be injected at random with a seeded generator
// ([Server.SetFaults]) or scripted one by one ([Server.InjectNext]).
//
// All methods of [Server] and [User] are safe for concurrent use.
package telegramtest
