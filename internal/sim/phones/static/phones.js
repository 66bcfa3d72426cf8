// The simulated phones: every tap and message goes to the demo server,
// which plays it to the Telegram or WeChat simulator as the pupil's; the
// phones show what the bot and the account sent back, polled each second.
(function () {
  'use strict';
  var P = '/demo/phones';
  var last = '';
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showErr(phone, j) {
    var e = $(phone + '-err');
    if (!e) return;
    e.textContent = j && j.error_zh ? j.error_zh + ' / ' + j.error_en : '网络错误，请再试一次。 / Network error, please try again.';
  }

  function call(phone, path, body) {
    var e = $(phone + '-err');
    if (e) e.textContent = '';
    return fetch(P + path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) {
        if (!r.ok) { showErr(phone, j); return false; }
        render(j);
        return true;
      });
    }, function () { showErr(phone, null); return false; });
  }

  function poll() {
    fetch(P + '/state', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) render(s); }, function () {})
      .then(function () { setTimeout(poll, document.hidden ? 4000 : 1000); });
  }

  function render(s) {
    var k = JSON.stringify(s);
    if (k === last) return;
    last = k;
    if ($('tg')) renderTelegram(s);
    if ($('wx')) renderWechat(s);
  }

  function fill(log, nodes) {
    log.replaceChildren.apply(log, nodes);
    log.scrollTop = log.scrollHeight; // the newest, as a chat app shows
  }

  function bubble(m) {
    var b = el('div', 'msg ' + (m.mine ? 'mine' : 'theirs'));
    if (m.image) {
      var img = el('img');
      img.src = m.image;
      img.alt = '图片 / picture';
      b.appendChild(img);
    } else if (m.photo) {
      b.appendChild(el('div', 'photo', m.mine ? '[你发送的图片 / your picture]' : '[图片 / picture]'));
    }
    if (m.text) b.appendChild(el('div', 'text', m.text));
    return b;
  }

  function renderTelegram(s) {
    var chat = s.tg_chat || [];
    var nodes = [];
    chat.forEach(function (m) {
      nodes.push(bubble(m));
      if (m.buttons && m.buttons.length) {
        var kb = el('div', 'kb');
        m.buttons.forEach(function (row) {
          var r = el('div', 'row');
          row.forEach(function (b) {
            var x;
            if (b.url) {
              x = el('a', '', b.label + ' ↗');
              x.href = b.url; x.target = '_blank'; x.rel = 'noopener noreferrer';
            } else {
              x = el('button', '', b.label);
              x.type = 'button';
              x.dataset.message = m.id;
              x.dataset.data = b.data;
            }
            r.appendChild(x);
          });
          kb.appendChild(r);
        });
        nodes.push(kb);
      }
    });
    fill($('tg-log'), nodes);
    $('tg-start-row').hidden = chat.length > 0;
    var cmds = $('tg-commands');
    var list = (s.tg_commands || []).map(function (c) {
      var b = el('button');
      b.type = 'button';
      b.dataset.command = c.data;
      b.appendChild(el('b', '', c.data));
      b.appendChild(document.createTextNode(c.label));
      return b;
    });
    cmds.replaceChildren.apply(cmds, list);
    $('tg-menu').hidden = list.length === 0;
  }

  function renderWechat(s) {
    var chat = s.wx_chat || [];
    var nodes = chat.map(function (m) {
      var b = bubble(m);
      (m.buttons || []).forEach(function (row) {
        var line = el('div', 'choices');
        row.forEach(function (c) {
          var x = el('button', 'choice', c.label);
          x.type = 'button';
          x.dataset.data = c.data;
          line.appendChild(x);
        });
        b.appendChild(line);
      });
      (m.links || []).forEach(function (l) {
        var a = el('a', '', l.label + ' ↗');
        a.href = l.url; a.target = '_blank'; a.rel = 'noopener noreferrer';
        b.appendChild(el('div')).appendChild(a);
      });
      return b;
    });
    fill($('wx-log'), nodes);
    var followed = s.wx_followed || chat.length > 0;
    $('wx-follow-row').hidden = followed;
    $('wx-form').hidden = !followed;
    var menu = $('wx-menu');
    var items = followed ? (s.wx_menu || []).map(function (it) {
      var b = el('button', '', it.label);
      b.type = 'button';
      b.dataset.key = it.key;
      return b;
    }) : [];
    menu.replaceChildren.apply(menu, items);
  }

  function composer(phone, path) {
    var form = $(phone + '-form'), input = $(phone + '-input'), send = $(phone + '-send');
    function submit() {
      var text = input.value;
      if (!text.trim()) return;
      send.disabled = true;
      call(phone, path, { text: text }).then(function (ok) {
        if (ok) input.value = '';
        send.disabled = false;
        input.focus();
      });
    }
    form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
  }

  // attach sends the picture chosen in the phone's file input, in base64
  // (the page's calls are JSON only).
  function attach(phone, path) {
    var input = $(phone + '-photo');
    input.addEventListener('change', function () {
      var f = input.files && input.files[0];
      input.value = '';
      if (!f) return;
      if (f.size > 10 * 1024 * 1024) {
        showErr(phone, { error_zh: '这张图片太大了（最大 10 MB）。', error_en: 'That picture is too large (10 MB at most).' });
        return;
      }
      var r = new FileReader();
      r.onload = function () {
        var data = String(r.result);
        call(phone, path, { photo: data.slice(data.indexOf(',') + 1) });
      };
      r.readAsDataURL(f);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if ($('tg')) {
      composer('tg', '/telegram/send');
      attach('tg', '/telegram/photo');
      $('tg-start').addEventListener('click', function () { call('tg', '/telegram/start'); });
      $('tg-menu').addEventListener('click', function () { $('tg-commands').hidden = !$('tg-commands').hidden; });
      $('tg-commands').addEventListener('click', function (e) {
        var b = e.target.closest('button[data-command]');
        if (!b) return;
        $('tg-commands').hidden = true;
        call('tg', '/telegram/send', { text: b.dataset.command });
      });
      $('tg-log').addEventListener('click', function (e) {
        var b = e.target.closest('.kb button');
        if (b) call('tg', '/telegram/press', { message: +b.dataset.message, data: b.dataset.data });
      });
    }
    if ($('wx')) {
      composer('wx', '/wechat/send');
      attach('wx', '/wechat/image');
      $('wx-follow').addEventListener('click', function () { call('wx', '/wechat/follow'); });
      $('wx-menu').addEventListener('click', function (e) {
        var b = e.target.closest('button[data-key]');
        if (b) call('wx', '/wechat/menu', { key: b.dataset.key });
      });
      $('wx-log').addEventListener('click', function (e) {
        var b = e.target.closest('button.choice');
        if (b) call('wx', '/wechat/tap', { data: b.dataset.data });
      });
    }
    $('reset').addEventListener('click', function () { last = ''; call('tg', '/reset'); });
    poll();
  });
})();
