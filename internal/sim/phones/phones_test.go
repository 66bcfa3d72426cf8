package phones

import (
	"reflect"
	"testing"
)

// TestWechatText reads messages as the adapter writes them: menu links on
// lines of their own become rows of choices, a pupil's angle brackets
// (made full-width by the adapter) stay words, web links stay links.
func TestWechatText(t *testing.T) {
	for _, c := range []struct {
		name, in string
		text     string
		rows     [][]choice
		links    []choice
	}{
		{"plain", "你好\n第二行", "你好\n第二行", nil, nil},
		{"a row of choices",
			"你是？\n" + `<a href="weixin://bizmsgmenu?msgmenucontent=%E6%88%91&msgmenuid=role%3Avictim">我</a>  <a href="weixin://bizmsgmenu?msgmenucontent=%E5%90%8C%E5%AD%A6&msgmenuid=role%3Awitness">同学</a>`,
			"你是？", [][]choice{{{Label: "我", Data: "role:victim"}, {Label: "同学", Data: "role:witness"}}}, nil},
		{"a pupil's brackets", "他写了＜a href=\"x\"＞点我＜/a＞", "他写了＜a href=\"x\"＞点我＜/a＞", nil, nil},
		{"a web link", `看这里 <a href="https://example.edu/c/demo">网页</a>`, "看这里 网页", nil, []choice{{Label: "网页", URL: "https://example.edu/c/demo"}}},
		{"another scheme", `<a href="javascript:alert(1)">x</a>`, "x", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, rows, links := wechatText(c.in)
			if text != c.text || !reflect.DeepEqual(rows, c.rows) || !reflect.DeepEqual(links, c.links) {
				t.Fatalf("got %q %v %v, want %q %v %v", text, rows, links, c.text, c.rows, c.links)
			}
		})
	}
}

// TestMerge puts the visitor's messages after what the other side had
// sent when each was sent, and drops deleted ones.
func TestMerge(t *testing.T) {
	theirs := []message{{Text: "a"}, {}, {Text: "c"}}
	got := merge(theirs, []mine{{after: 0, text: "1"}, {after: 1, text: "2"}, {after: 3, text: "3"}})
	var seq []string
	for _, m := range got {
		if m.Mine {
			seq = append(seq, "me:"+m.Text)
		} else {
			seq = append(seq, m.Text)
		}
	}
	if want := []string{"me:1", "a", "me:2", "c", "me:3"}; !reflect.DeepEqual(seq, want) {
		t.Fatalf("got %v, want %v", seq, want)
	}
}
