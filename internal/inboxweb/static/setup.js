// Hotline inbox setup page: copy buttons. A separate file because the CSP
// forbids inline scripts.
(function () {
  'use strict';
  function copied(btn) {
    var label = btn.textContent;
    btn.textContent = btn.getAttribute('data-copied') || label;
    setTimeout(function () { btn.textContent = label; }, 1500);
  }
  // The fallback selects the text so the admin can press Ctrl+C when the
  // clipboard API is missing (plain http on a LAN address).
  function select(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return sel;
  }
  document.addEventListener('click', function (e) {
    var btn = e.target.closest ? e.target.closest('[data-copy]') : null;
    if (!btn) return;
    var el = document.getElementById(btn.getAttribute('data-copy'));
    if (!el) return;
    var text = el.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(btn); }, function () { select(el); });
      return;
    }
    select(el);
    try {
      if (document.execCommand('copy')) copied(btn);
    } catch (err) { /* the text stays selected */ }
  });
})();
