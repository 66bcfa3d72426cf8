// Hotline chat page. Vanilla JS, no third-party code. It keeps a random
// session token and the unconfirmed messages in sessionStorage (gone when
// the tab closes, wiped by quick exit), and the receipt in memory only.
(function () {
  'use strict';
  var body = document.body;
  var T = {};
  try { T = JSON.parse(document.getElementById('texts').textContent); } catch (e) {}
  var school = body.dataset.school, lang = body.dataset.lang || 'zh', embed = body.dataset.embed === '1';
  var log = document.getElementById('log'), choices = document.getElementById('choices');
  var statusEl = document.getElementById('status'), form = document.getElementById('composer');
  var msg = document.getElementById('msg'), photo = document.getElementById('photo');
  var codeform = document.getElementById('codeform'), code = document.getElementById('code');
  var codeerr = document.getElementById('codeerr');
  var store = window.sessionStorage;

  function get(k, d) { try { var v = store.getItem('hl.' + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } }
  function put(k, v) { try { store.setItem('hl.' + k, JSON.stringify(v)); } catch (e) {} }
  function rand(n) {
    var b = new Uint8Array(n); crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  var token = get('token', null);
  if (!token) { token = rand(32); put('token', token); }
  // The page secret: a report sent from this page keeps its receipt sealed
  // to it for a day, so a reply lost to a dropped connection or a restart
  // still brings the receipt when the page sends again. Only the page has it.
  var pageSecret = get('page', null);
  if (!pageSecret) { pageSecret = rand(32); put('page', pageSecret); }
  // The language this tab's page last spoke: a different one now means
  // the reporter switched it.
  var pageLang = get('pageLang', null);
  put('pageLang', lang);
  var lastSeq = get('seq', 0);
  var epoch = get('epoch', ''); // the server's numbering lastSeq counts in
  var pending = get('pending', []); // frames not yet acknowledged, oldest first
  var files = {};                   // id -> File for pending photos (memory only)
  var receipt = null, wantReceipt = null, tip = null, lastMsg = '';
  var alertShown = null;
  var beforeResume = null;
  var acted = false;                // until the reporter acts, the page stays at its top (the privacy note)          // the screen before a receipt was tried, to restore if it fails            // safety guidance shown since the reporter last acted
  var shown = {};                   // thread message uids on screen
  var bubbles = {};                 // client id -> bubble
  var ws = null, ready = false, attempt = 0, freshPage = true, seenTimer = 0, limits = { text_chars: 4000, photo_bytes: 10485760 };

  // ---- screen ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function add(node) {
    log.appendChild(node);
    if (acted || /\bsafety\b/.test(node.className)) node.scrollIntoView({ block: 'end' });
    return node;
  }
  function bubble(who, text, label) {
    var b = el('div', 'msg ' + who);
    if (label) b.appendChild(el('span', 'who', label));
    b.appendChild(el('p', 'text', text));
    return add(b);
  }
  function mark(b, state) {
    if (!b) return;
    var s = b.querySelector('.state') || b.appendChild(el('span', 'state'));
    s.textContent = T[state] || '';
    b.dataset.state = state;
  }
  function setStatus(key) { statusEl.textContent = T[key] || key; }
  function showChoices(rows) {
    choices.textContent = '';
    (rows || []).forEach(function (row) {
      var r = el('div', 'row');
      row.forEach(function (btn) {
        var b = el('button', 'choice', btn.label);
        b.type = 'button';
        b.addEventListener('click', function () {
          choices.textContent = ''; alertShown = null; acted = true;
          bubble('you', btn.label);
          post({ type: 'choice', data: btn.data });
          // Not the text box: on a phone that opens the keyboard over the
          // next question's buttons. Keyboard users land on the next buttons.
          choices.focus({ preventScroll: true });
        });
        r.appendChild(b);
      });
      choices.appendChild(r);
    });
    if (rows && rows.length) {
      if (document.activeElement === choices) { var first = choices.querySelector('button'); if (first) first.focus({ preventScroll: true }); }
      reveal();
    }
  }
  // reveal scrolls the new buttons into sight above the composer, or, when
  // they do not fit together with the question (or with safety guidance
  // shown just before it, which comes first), the start of that.
  function reveal() {
    if (!acted && !alertShown) return;
    var q = alertShown || log.lastElementChild, bar = document.querySelector('.bar');
    var room = window.innerHeight - form.offsetHeight - (bar ? bar.offsetHeight : 0) - 24;
    if (q && choices.getBoundingClientRect().bottom - q.getBoundingClientRect().top > room) q.scrollIntoView({ block: 'start' });
    else choices.scrollIntoView({ block: 'end' });
  }

  function showReply(r) {
    switch (r.kind) {
      case 'receipt':
        receipt = r.receipt;
        receiptCard(r.receipt, r.text);
        break;
      case 'safety':
        alertShown = add(safetyCard(r.text));
        alertShown.setAttribute('role', 'alert');
        break;
      case 'error':
        bubble('them error', r.text);
        break;
      case 'ask':
        // The safety question: plain and direct, its two answers below.
        var q = bubble('them ask', r.text);
        q.setAttribute('role', 'alert');
        if (!alertShown) alertShown = q;
        break;
      default:
        bubble('them', r.text);
    }
    if (r.buttons && r.buttons.length) showChoices(r.buttons);
  }

  // safetyCard shows urgent guidance with the emergency numbers as links a
  // phone can call with one tap.
  function safetyCard(text) {
    var c = el('div', 'msg safety'), re = /(^|[^\d-])(110|120|12355)(?![\d-])/g, at = 0, m;
    while ((m = re.exec(text))) {
      var start = m.index + m[1].length;
      c.appendChild(document.createTextNode(text.slice(at, start)));
      var a = el('a', 'tel', m[2]); a.href = 'tel:' + m[2];
      c.appendChild(a);
      at = start + m[2].length;
    }
    c.appendChild(document.createTextNode(text.slice(at)));
    return c;
  }

  function showMsg(m) {
    if (shown[m.uid]) return;
    shown[m.uid] = true;
    lastMsg = m.uid;
    if (m.author === 'you') {
      // A message this page sent is already on screen: bind it, do not repeat it.
      var mine = log.querySelectorAll('.msg.you:not([data-uid])');
      for (var i = 0; i < mine.length; i++) {
        var t = mine[i].querySelector('.text');
        if (t && t.textContent === (m.text || '')) { mine[i].dataset.uid = m.uid; return; }
      }
    }
    var who = m.author === 'you' ? 'you' : 'them';
    var b = bubble(who, m.text || '', m.author === 'counselor' ? T.counselor : (m.author === 'you' ? '' : T.hotline));
    b.dataset.uid = m.uid;
    if (m.photo) { var img = el('img'); img.src = m.photo; img.alt = T.photoSent; b.appendChild(img); }
  }

  function receiptCard(rc, text) {
    var c = el('section', 'receipt');
    c.setAttribute('aria-label', T.receiptTitle);
    c.appendChild(el('h2', '', T.receiptTitle));
    var p = el('p', 'code', rc);
    p.id = 'receipt-code';
    c.appendChild(p);
    c.appendChild(el('p', 'warn', text || T.receiptWarn));
    var bar = el('div', 'actions');
    var copy = el('button', '', T.copy); copy.type = 'button';
    copy.addEventListener('click', function () {
      var done = function () { copy.textContent = T.copied; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(rc).then(done, function () { legacyCopy(rc); done(); });
      } else { legacyCopy(rc); done(); }
    });
    var img = el('button', '', T.saveImage); img.type = 'button';
    img.addEventListener('click', function () { saveImage(rc, text || T.receiptWarn); });
    var pr = el('button', '', T.print); pr.type = 'button';
    pr.addEventListener('click', function () {
      c.classList.add('printing'); body.classList.add('print-receipt');
      window.print();
      setTimeout(function () { c.classList.remove('printing'); body.classList.remove('print-receipt'); }, 500);
    });
    bar.appendChild(copy); bar.appendChild(img); bar.appendChild(pr);
    c.appendChild(bar);
    add(c);
  }
  function legacyCopy(s) {
    var t = el('textarea'); t.value = s; t.className = 'sr'; body.appendChild(t); t.select();
    try { document.execCommand('copy'); } catch (e) {}
    body.removeChild(t);
  }
  // saveImage draws the receipt on a canvas and offers it as a PNG download.
  function saveImage(rc, note) {
    var cv = document.createElement('canvas'); cv.width = 900; cv.height = 460;
    var g = cv.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, cv.width, cv.height);
    g.fillStyle = '#1f3a5f'; g.font = 'bold 36px sans-serif'; g.fillText(T.receiptTitle, 40, 70);
    g.fillStyle = '#000'; g.font = 'bold 54px monospace'; g.fillText(rc, 40, 170);
    g.fillStyle = '#7a2300'; g.font = '26px sans-serif';
    wrap(g, note, 40, 240, 820, 34);
    g.fillStyle = '#555'; g.font = '22px sans-serif'; g.fillText(location.host + '/c/' + school, 40, 420);
    cv.toBlob(function (blob) {
      var a = el('a'); a.href = URL.createObjectURL(blob); a.download = 'receipt.png';
      body.appendChild(a); a.click(); body.removeChild(a);
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    });
  }
  function wrap(g, text, x, y, w, lh) {
    var line = '';
    for (var i = 0; i < text.length; i++) {
      var next = line + text[i];
      if (g.measureText(next).width > w && line) { g.fillText(line, x, y); y += lh; line = text[i]; } else line = next;
    }
    if (line) g.fillText(line, x, y);
  }

  // ---- receipts ----
  // norm mirrors the server: letters and digits, upper case, O→0, I/L→1, full width folded.
  function norm(s) {
    var out = '';
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;
      var ch = String.fromCharCode(c).toUpperCase();
      if (ch === 'O') ch = '0'; else if (ch === 'I' || ch === 'L') ch = '1';
      if (/[0-9A-Z]/.test(ch)) out += ch;
    }
    return out;
  }
  function containsReceipt(text) {
    return !!receipt && norm(text).indexOf(norm(receipt).slice(0, 19)) >= 0;
  }

  // ---- protocol ----
  function newId() { return Date.now().toString(36) + '-' + rand(6); }
  function savePending() {
    // Receipts and photos never go to storage.
    put('pending', pending.filter(function (f) { return f.type !== 'resume' && f.type !== 'sync' && f.type !== 'photo'; })
      .map(function (f) { var c = {}; for (var k in f) if (k !== 'receipt') c[k] = f[k]; return c; }));
  }
  function post(f) {
    f.v = 1; f.id = newId();
    pending.push(f); savePending();
    transmit(f);
    return f.id;
  }
  function transmit(f) {
    if (!ready) return;
    var out = {};
    for (var k in f) out[k] = f[k];
    if (receipt && f.type !== 'resume') out.receipt = receipt;
    if (f.type === 'resume') out.receipt = wantReceipt;
    if (f.type === 'photo') {
      var file = files[f.id];
      if (!file) return;
      ws.send(new Blob([JSON.stringify(out) + '\n', file]));
    } else {
      ws.send(JSON.stringify(out));
    }
  }
  function settle(id) {
    pending = pending.filter(function (f) { return f.id !== id; });
    delete files[id];
    savePending();
  }
  function retryLater(id) {
    setTimeout(function () {
      for (var i = 0; i < pending.length; i++) if (pending[i].id === id) transmit(pending[i]);
    }, 1500 + Math.random() * 1500);
  }

  function connect() {
    setStatus(attempt ? 'reconnecting' : 'connecting');
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/webchat/ws');
    ws.onopen = function () {
      ws.send(JSON.stringify({ v: 1, type: 'hello', session: token, school: school, lang: lang, last_seq: lastSeq, epoch: epoch, page: pageSecret }));
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.seq) {
        if (f.seq <= lastSeq) return; // already shown before a reconnect
        lastSeq = f.seq; put('seq', lastSeq);
        clearTimeout(seenTimer);
        seenTimer = setTimeout(function () { if (ready) ws.send(JSON.stringify({ v: 1, type: 'seen', seq: lastSeq })); }, 300);
      }
      frame(f);
    };
    ws.onclose = function () {
      ready = false; ws = null;
      attempt++;
      setStatus('reconnecting');
      var delay = Math.min(15000, 500 * Math.pow(2, Math.min(attempt, 5))) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }

  function frame(f) {
    switch (f.type) {
      case 'welcome':
        ready = true; attempt = 0;
        if (f.limits) limits = f.limits;
        if (f.epoch && f.epoch !== epoch) {
          // The server numbers this session's frames from 1 again (it
          // restarted, or forgot the session): what follows is new, not
          // something already shown. The thread is synced below.
          epoch = f.epoch; put('epoch', epoch);
          lastSeq = 0; put('seq', 0);
        }
        setStatus('connected');
        pending.forEach(transmit);
        if (freshPage && !pending.length) {
          // The reporter switched the page's language (its link) in the
          // middle of a conversation: the conversation follows, and asks
          // its question again, with its buttons, in that language.
          if (pageLang && pageLang !== lang) post({ type: 'command', command: 'language', text: lang });
          else post({ type: 'command', command: 'new' });
        }
        if (receipt) post({ type: 'sync', after: lastMsg });
        freshPage = false;
        break;
      case 'reply':
        showReply(f.reply);
        break;
      case 'msg':
        showMsg(f.msg);
        break;
      case 'resumed':
        receipt = wantReceipt; wantReceipt = null; tip = f.tip; beforeResume = null;
        codeform.hidden = true;
        break;
      case 'notice':
        if (receipt) { setStatus('newReply'); post({ type: 'sync', after: lastMsg }); }
        break;
      case 'ack':
        mark(bubbles[f.id], 'sent');
        delete bubbles[f.id];
        settle(f.id);
        break;
      case 'error':
        if (f.id && (f.code === 'rate_limited' || f.code === 'busy')) { retryLater(f.id); break; }
        if (f.id) {
          var wasResume = pending.some(function (p) { return p.id === f.id && p.type === 'resume'; });
          mark(bubbles[f.id], 'failed'); delete bubbles[f.id]; settle(f.id);
          if (wasResume) {
            // A mistyped code must not wipe the conversation: put it back.
            if (beforeResume && !log.childNodes.length) {
              beforeResume.log.forEach(function (n) { log.appendChild(n); });
              beforeResume.choices.forEach(function (n) { choices.appendChild(n); });
              shown = beforeResume.shown; lastMsg = beforeResume.lastMsg;
            }
            beforeResume = null;
            codeerr.textContent = f.text; code.focus(); showCodeForm();
            break;
          }
        }
        bubble('them error', f.text);
        break;
    }
  }

  // ---- input ----
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = msg.value.trim();
    if (!text) return;
    if (containsReceipt(text)) { bubble('them error', T.receiptInText); return; }
    choices.textContent = ''; alertShown = null; acted = true;
    var b = bubble('you', text);
    var id = post({ type: 'text', text: text });
    bubbles[id] = b; mark(b, 'sending');
    msg.value = '';
    msg.focus();
  });
  msg.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit')); }
  });
  photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    photo.value = '';
    if (!file) return;
    if (file.size > limits.photo_bytes) { bubble('them error', T.tooLarge); return; }
    var b = bubble('you', T.photoSent);
    var img = el('img'); img.src = URL.createObjectURL(file); img.alt = T.photoSent; b.appendChild(img);
    var f = { v: 1, type: 'photo', id: newId() };
    files[f.id] = file; pending.push(f); bubbles[f.id] = b; mark(b, 'sending');
    transmit(f);
  });
  // showCodeForm brings the code form into sight above the sticky composer.
  function showCodeForm() { codeform.scrollIntoView({ block: 'end' }); }
  document.getElementById('havecode').addEventListener('click', function () {
    codeform.hidden = false; codeerr.textContent = ''; code.focus({ preventScroll: true }); showCodeForm();
  });
  document.getElementById('codecancel').addEventListener('click', function () { codeform.hidden = true; msg.focus(); });
  codeform.addEventListener('submit', function (e) {
    e.preventDefault();
    var c = code.value.trim();
    if (norm(c).length !== 20) { codeerr.textContent = T.codeBad; code.focus(); return; }
    codeerr.textContent = '';
    wantReceipt = c; acted = true;
    beforeResume = { log: [].slice.call(log.childNodes), choices: [].slice.call(choices.childNodes), shown: shown, lastMsg: lastMsg };
    log.textContent = ''; shown = {}; lastMsg = ''; choices.textContent = '';
    post({ type: 'resume' });
    code.value = '';
  });

  // ---- quick exit ----
  var lastEsc = 0;
  function quickExit(e) {
    if (e) e.preventDefault();
    try { if (ws) { ws.onclose = null; ws.close(); } } catch (x) {}
    receipt = null; pending = [];
    try { store.clear(); } catch (x) {}
    body.textContent = '';
    if (embed && window.parent !== window) window.parent.postMessage({ hotline: 'exit' }, '*');
    location.replace('/webchat/away?lang=' + lang);
  }
  document.getElementById('exit').addEventListener('click', quickExit);
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    var now = Date.now();
    if (now - lastEsc < 1500) quickExit(e); else lastEsc = now;
  });

  if (pending.length) pending.forEach(function (f) { if (f.type === 'text') { var b = bubble('you', f.text); bubbles[f.id] = b; mark(b, 'sending'); } });
  pending = pending.filter(function (f) { return f.type !== 'photo'; });
  connect();
})();
