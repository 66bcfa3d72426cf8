package intake

import (
	"fmt"
	"math/rand/v2"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

type word struct{ zh, en string }

// Friendly colours and animals: an alias must never sound like an insult.
var aliasColors = []word{
	{"蓝", "Blue"}, {"红", "Red"}, {"绿", "Green"}, {"金", "Golden"}, {"银", "Silver"}, {"白", "White"}, {"紫", "Purple"}, {"橙", "Orange"},
	{"青", "Teal"}, {"灰", "Grey"}, {"粉", "Pink"}, {"棕", "Brown"}, {"黄", "Yellow"}, {"墨", "Ink"}, {"雪", "Snow"}, {"星", "Star"},
}

var aliasAnimals = []word{
	{"狐", "Fox"}, {"熊", "Bear"}, {"鹿", "Deer"}, {"鹰", "Hawk"}, {"兔", "Rabbit"}, {"鲸", "Whale"}, {"狼", "Wolf"}, {"猫", "Cat"},
	{"燕", "Swallow"}, {"龟", "Turtle"}, {"鹤", "Crane"}, {"豹", "Leopard"}, {"松鼠", "Squirrel"}, {"海豚", "Dolphin"}, {"熊猫", "Panda"},
	{"企鹅", "Penguin"}, {"孔雀", "Peacock"}, {"骆驼", "Camel"}, {"水獭", "Otter"}, {"刺猬", "Hedgehog"}, {"猫头鹰", "Owl"}, {"海鸥", "Gull"},
	{"蜂鸟", "Hummingbird"}, {"麋鹿", "Elk"},
}

var aliasSpace = len(aliasColors) * len(aliasAnimals)

func aliasAt(i, suffix int) hotline.Alias {
	c, a := aliasColors[i%len(aliasColors)], aliasAnimals[i/len(aliasColors)]
	if suffix <= 1 {
		return hotline.Alias{ZH: c.zh + a.zh, EN: c.en + " " + a.en}
	}
	return hotline.Alias{ZH: fmt.Sprintf("%s%s%d", c.zh, a.zh, suffix), EN: fmt.Sprintf("%s %s %d", c.en, a.en, suffix)}
}

// assignAlias picks an alias unused in the school, inside the transaction
// that inserts the tip (the UNIQUE index is the final word). Random picks
// keep aliases from telling the order of reports.
// count is about how many tips the school has: it sizes the range so that
// at least half of it is free and one lookup nearly always finds a name.
func assignAlias(tx *store.Tx, schoolID int64, count int) (hotline.Alias, error) {
	start := 1
	for start*aliasSpace < 2*count {
		start *= 2
	}
	for round := 0; round < 20; round++ {
		// Widen the numbered range as rounds find names taken.
		suffixes := start << min(round, 16)
		cands := make([]hotline.Alias, store.AliasBatch)
		zh := make([]string, len(cands))
		for i := range cands {
			suffix := 1
			if suffixes > 1 {
				suffix = 1 + rand.IntN(suffixes)
			}
			cands[i] = aliasAt(rand.IntN(aliasSpace), suffix)
			zh[i] = cands[i].ZH
		}
		used, err := tx.AliasesInUse(schoolID, zh)
		if err != nil {
			return hotline.Alias{}, err
		}
		for _, c := range cands {
			if !used[c.ZH] {
				return c, nil
			}
		}
	}
	return hotline.Alias{}, fmt.Errorf("no free alias in school %d", schoolID)
}
