// Hotline widget: <script src="https://HOST/webchat/widget.js" data-school="CODE" async></script>
// It adds a button that opens the chat in an iframe from the hotline's own
// origin, so this page (and anything else running on it) cannot read what
// the student types. No third-party code, no cookies, no tracking.
(function () {
  'use strict';
  var s = document.currentScript;
  if (!s || window.__hotlineWidget) return;
  window.__hotlineWidget = true;
  var school = s.getAttribute('data-school') || '';
  var base = new URL(s.src).origin;
  var lang = (s.getAttribute('data-lang') || document.documentElement.lang || navigator.language || 'zh').toLowerCase().indexOf('en') === 0 ? 'en' : 'zh';
  var T = {
    zh: { open: '匿名求助', title: '匿名求助聊天', close: '关闭', exit: '快速离开',
      blocked: '请点下面的按钮，在新窗口里打开聊天。', tab: '在新窗口打开聊天' },
    en: { open: 'Get help anonymously', title: 'Anonymous help chat', close: 'Close', exit: 'Quick exit',
      blocked: 'Tap the button below to open the chat in a new tab.', tab: 'Open the chat in a new tab' }
  }[lang];
  var chatURL = base + '/c/' + encodeURIComponent(school) + '?lang=' + lang;
  var btn, panel, frame, lastEsc = 0;

  function css(e, text) { e.style.cssText = text; return e; }
  function mk(tag, text) { var e = document.createElement(tag); if (text) e.textContent = text; return e; }
  var font = 'font:16px/1.4 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;';

  btn = css(mk('button', T.open), font + 'position:fixed;right:16px;bottom:16px;z-index:2147483000;' +
    'padding:12px 18px;border:0;border-radius:24px;background:#1f5fa8;color:#fff;font-weight:600;' +
    'box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer;min-height:48px;');
  btn.type = 'button';
  btn.setAttribute('aria-haspopup', 'dialog');
  btn.setAttribute('aria-expanded', 'false');
  btn.setAttribute('data-hotline', 'open');
  btn.addEventListener('click', open);

  function open() {
    if (panel) { show(); return; }
    panel = css(mk('div'), font + 'position:fixed;right:16px;bottom:16px;z-index:2147483001;display:flex;flex-direction:column;' +
      'width:min(400px,calc(100vw - 32px));height:min(640px,calc(100vh - 32px));background:#fff;color:#111;' +
      'border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.35);overflow:hidden;');
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', T.title);
    panel.setAttribute('data-hotline', 'panel');
    var bar = css(mk('div'), 'display:flex;gap:8px;align-items:center;padding:8px;background:#1f5fa8;color:#fff;');
    var h = css(mk('span', T.title), 'flex:1;font-weight:600;');
    var ex = css(mk('button', T.exit), font + 'border:0;border-radius:6px;padding:8px 10px;background:#c0392b;color:#fff;font-weight:600;cursor:pointer;min-height:44px;');
    ex.type = 'button';
    ex.setAttribute('data-hotline', 'exit');
    ex.addEventListener('click', quickExit);
    var cl = css(mk('button', '×'), font + 'border:0;border-radius:6px;padding:4px 12px;background:transparent;color:#fff;font-size:24px;cursor:pointer;min-height:44px;min-width:44px;');
    cl.type = 'button';
    cl.setAttribute('aria-label', T.close);
    cl.addEventListener('click', hide);
    bar.appendChild(h); bar.appendChild(ex); bar.appendChild(cl);
    panel.appendChild(bar);
    document.body.appendChild(panel);
    // Ask first whether this page's origin may frame the chat, so a school
    // that has not listed it gets a link instead of a broken box.
    var done = false;
    function build(ok) {
      if (done) return;
      done = true;
      if (ok) {
        frame = css(mk('iframe'), 'flex:1;border:0;width:100%;');
        frame.src = chatURL + '&embed=1';
        frame.title = T.title;
        frame.setAttribute('referrerpolicy', 'no-referrer');
        frame.setAttribute('allow', 'clipboard-write');
        frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-downloads allow-modals');
        panel.appendChild(frame);
        frame.focus();
      } else {
        var box = css(mk('div'), 'padding:16px;');
        box.appendChild(mk('p', T.blocked));
        var a = css(mk('a', T.tab), 'display:inline-block;margin-top:8px;padding:12px 16px;background:#1f5fa8;color:#fff;border-radius:8px;text-decoration:none;');
        a.href = chatURL; a.target = '_blank'; a.rel = 'noopener noreferrer';
        box.appendChild(a);
        panel.appendChild(box);
        a.focus();
      }
    }
    try {
      fetch(base + '/webchat/allowed?school=' + encodeURIComponent(school), { mode: 'cors', credentials: 'omit', referrerPolicy: 'no-referrer' })
        .then(function (r) { return r.json(); })
        .then(function (a) { build(!!a.allowed); }, function () { build(false); });
    } catch (e) { build(false); }
    show();
  }
  function show() {
    panel.style.display = 'flex';
    btn.style.display = 'none';
    btn.setAttribute('aria-expanded', 'true');
    (frame || panel).focus();
  }
  function hide() {
    if (!panel) return;
    panel.style.display = 'none';
    btn.style.display = '';
    btn.setAttribute('aria-expanded', 'false');
    btn.focus();
  }
  // quickExit removes the chat and replaces this page with a neutral one;
  // replace() keeps it out of the Back history.
  function quickExit() {
    if (panel && panel.parentNode) panel.parentNode.removeChild(panel);
    panel = frame = null;
    location.replace(base + '/webchat/away?lang=' + lang);
  }
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape' || !panel) return;
    var now = Date.now();
    if (now - lastEsc < 1500) quickExit(); else { lastEsc = now; }
  });
  window.addEventListener('message', function (e) {
    if (e.origin === base && e.data && e.data.hotline === 'exit') quickExit();
  });
  function mount() { document.body.appendChild(btn); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
