package intake

import (
	"errors"
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

// aliasRounds is how many batches of candidates a tip tries, each round
// widening the numbered range, before the school is out of names.
const aliasRounds = 20

// aliasCandidates returns a round's batch of candidate aliases for a new
// tip; the tip's INSERT takes the first the school does not use
// (store.Tx.InsertChatTipAlias, whose unique key is the final word).
// Random picks keep aliases from telling the order of reports. count is
// about how many tips the school has: it sizes the range so that at least
// half of it is free and one batch nearly always holds a free name; each
// round after the first, whose names were all taken, doubles the range.
func aliasCandidates(count, round int) []hotline.Alias {
	start := 1
	for start*aliasSpace < 2*count {
		start *= 2
	}
	suffixes := start << min(round, 16)
	cands := make([]hotline.Alias, store.AliasBatch)
	for i := range cands {
		suffix := 1
		if suffixes > 1 {
			suffix = 1 + rand.IntN(suffixes)
		}
		cands[i] = aliasAt(rand.IntN(aliasSpace), suffix)
	}
	return cands
}

// insertWithAlias inserts the filing's tip with an alias unused in its
// school, picked by the insert itself from rounds of candidates; a
// submission that filed a tip already is store.ErrSubmissionFiled.
func insertWithAlias(tx *store.Tx, tip *hotline.Tip, f *filing, count int) error {
	for round := 0; round < aliasRounds; round++ {
		err := tx.InsertChatTipAlias(tip, f.receiptMAC, f.handle, aliasCandidates(count, round), f.subMAC)
		if !errors.Is(err, store.ErrAliasTaken) {
			return err
		}
	}
	return fmt.Errorf("no free alias in school %d", tip.SchoolID)
}
