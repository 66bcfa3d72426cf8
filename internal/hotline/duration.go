package hotline

import (
	"fmt"
	"time"
)

// In writes d for a reporter in lang, as the texts that promise a time use
// it: whole hours as hours ("1 小时", "24 hours"), anything else as whole
// minutes, rounded up so that a promise is never shorter than the deadline.
func (d Duration) In(lang Lang) string {
	t := time.Duration(d)
	switch {
	case t == time.Hour:
		return Label{ZH: "1 小时", EN: "1 hour"}.In(lang)
	case t > time.Hour && t%time.Hour == 0:
		return fmt.Sprintf(Label{ZH: "%d 小时", EN: "%d hours"}.In(lang), int(t/time.Hour))
	}
	return fmt.Sprintf(Label{ZH: "%d 分钟", EN: "%d minutes"}.In(lang), max(1, int((t+time.Minute-1)/time.Minute)))
}
