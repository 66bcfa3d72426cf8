// Package telegramsim simulates the Telegram Bot API: a server on a real
// listener that speaks the wire format of the real Bot API closely enough
// for github.com/go-telegram/bot (and any other client) to be pointed at it
// with bot.WithServerURL(srv.URL()). Requests may be multipart/form-data,
// application/x-www-form-urlencoded or JSON; answers are
// {"ok":true,"result":…} or {"ok":false,"error_code":N,"description":…}.
//
// Simulated users ([User]) send text, commands, photos and press inline
// buttons; the resulting updates are served through getUpdates (long polling)
// or pushed to the webhook registered with setWebhook. Everything the bot
// sends is recorded per chat as [SentMessage] values that callers can inspect
// or wait for.
//
// Faults (429, 500, slow answers, dropped connections and "accepted but the
// answer lost") can be injected at random with a seeded generator
// ([Server.SetFaults]) or scripted one by one ([Server.InjectNext]).
//
// It is product code: "hotline bench" drives its simulated reporters
// through it, and tests use it through the thin wrapper
// internal/telegramtest. It imports no testing package, so the production
// binary links no test code. It keeps everything in memory: it is for a
// load run or a test, never for real chats.
//
// Use:
//
//	srv, err := telegramsim.Start(telegramsim.Config{})
//	defer srv.Close()
//	// point the bot at srv.URL() with srv.Token()
//	u := srv.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
//	u.SendCommand("/start demo")
//	m, err := u.NextMessage(ctx)
//
// All methods of [Server] and [User] are safe for concurrent use.
package telegramsim
