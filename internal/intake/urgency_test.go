package intake

import "testing"

func TestUrgent(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		// Chinese: self-harm
		{"我真的不想活了", true},
		{"每天都被骂，我想死", true},
		{"活着没意思，想结束生命", true},
		{"我昨天晚上割腕了", true},
		{"想 死", true},
		// Chinese: weapons and threats
		{"他说放学后要带刀来找我", true},
		{"他们说要弄死我", true},
		{"有人拿刀威胁我", true},
		// Chinese: ongoing violence
		{"现在被堵在厕所里，救命", true},
		{"他们正在打我同桌", true},
		// Chinese: negations and ordinary bullying must not trigger
		{"我不想死，我只想让他们停下来", false},
		{"他没有带刀，就是一直骂我", false},
		{"他们给我起外号，还把我的书扔了", false},
		{"同学们都不跟我玩，孤立我", false},
		{"他抢了我的零花钱", false},
		// English
		{"I want to kill myself", true},
		{"i dont want to live anymore", true},
		{"He said he will bring a KNIFE tomorrow", true},
		{"They are hitting me right now", true},
		{"ＫＮＩＦＥ", true},
		{"I'm suicidal", true},
		// English negations and ordinary bullying
		{"He did not have a knife, he just pushed me", false},
		{"I don't want to die, I want it to stop", false},
		{"they call me names every day", false},
		{"someone took my lunch money", false},
		{"I feel left out in class", false},
		{"knifefish are cool", false}, // word boundary
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Urgent(tt.text); got != tt.want {
				t.Errorf("Urgent(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}
