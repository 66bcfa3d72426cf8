// Hotline inbox: live updates over server-sent events, and confirmations.
// No inline scripts anywhere (the CSP forbids them); this file is all.
(function () {
  'use strict';
  var body = document.body;

  // A log-in page opened over plain http on an https server cannot keep
  // the log-in: it says so before anyone types a password.
  var insecure = document.getElementById('insecure');
  if (insecure && window.location.protocol === 'http:') {
    insecure.hidden = false;
  }

  // Forms with data-confirm ask before they submit (deactivating a counselor).
  // A button may ask on its own (a delete button in an edit form).
  document.addEventListener('submit', function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (e.submitter && e.submitter.hasAttribute('data-confirm')) {
      msg = e.submitter.getAttribute('data-confirm');
    }
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  });

  // A saved reply goes into the reply box at the cursor, with no round
  // trip; without script the same button posts the form and the server
  // puts it there.
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('#saved-replies button[data-body]');
    var box = document.getElementById('reply-text');
    if (!b || !box) { return; }
    e.preventDefault();
    var text = b.getAttribute('data-body');
    var start = box.selectionStart, end = box.selectionEnd, v = box.value;
    if (typeof start !== 'number') { start = end = v.length; }
    var before = v.slice(0, start), after = v.slice(end);
    if (before && !/\n$/.test(before)) { text = '\n' + text; }
    box.value = before + text + after;
    var at = before.length + text.length;
    box.focus();
    box.setSelectionRange(at, at);
  });

  // On a phone the queue's less-used filters fold away behind one button
  // (unless one of them is in use), so the cases start on the first
  // screen. Without script every filter shows.
  var filters = document.querySelector('form.filters');
  var moreBtn = filters && filters.querySelector('.more-toggle');
  if (moreBtn && window.matchMedia && window.matchMedia('(max-width: 600px)').matches) {
    var inUse = Array.prototype.some.call(filters.querySelectorAll('.more input, .more select'), function (f) { return f.value !== ''; });
    if (!inUse) {
      filters.classList.add('compact');
      moreBtn.hidden = false;
      moreBtn.addEventListener('click', function () {
        filters.classList.remove('compact');
        moreBtn.hidden = true;
        moreBtn.setAttribute('aria-expanded', 'true');
      });
    }
  }

  // The receipt page's print link prints the slip (print CSS hides the rest).
  var printLink = document.getElementById('print-slip');
  if (printLink && window.print) {
    printLink.addEventListener('click', function (e) { e.preventDefault(); window.print(); });
  }

  var live = body.getAttribute('data-live');
  if (!live || !window.EventSource) {
    return;
  }
  var baseTitle = body.getAttribute('data-title');

  function setBadge(n) {
    n = parseInt(n, 10) || 0;
    document.title = (n > 0 ? '(' + n + ') ' : '') + baseTitle;
    var nav = document.getElementById('unread-n');
    var badge = document.getElementById('unread-badge');
    if (nav) {
      nav.textContent = String(n);
    }
    if (badge) {
      badge.hidden = n === 0;
    }
  }

  // The queue is re-read as a server-rendered fragment: notices carry no
  // content, and the server escapes everything it renders.
  var busy = false, again = false;
  function refreshQueue() {
    if (busy) { again = true; return; }
    busy = true;
    fetch('/inbox/queue' + window.location.search, {
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'fetch' },
      cache: 'no-store'
    }).then(function (r) {
      if (r.status === 401) { window.location.href = '/inbox/login'; return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.body.firstElementChild;
      var box = document.getElementById('queue');
      if (fresh && box) {
        box.replaceChildren(document.importNode(fresh, true));
        setBadge(fresh.getAttribute('data-unread'));
      }
    }).catch(function () {}).then(function () {
      busy = false;
      if (again) { again = false; refreshQueue(); }
    });
  }

  // The open case's thread, status line and timeline are swapped for a
  // fresh server-rendered fragment; the reply and note boxes are not
  // touched, so whatever the counselor is typing stays.
  var caseBusy = false, caseAgain = false, refreshed = 0;
  function showReloadNotice() {
    var note = document.getElementById('live-notice');
    if (note) { note.hidden = false; }
  }
  function refreshCase(uid) {
    if (caseBusy) { caseAgain = true; return; }
    caseBusy = true;
    fetch('/inbox/tips/' + encodeURIComponent(uid) + '/thread', {
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'fetch' },
      cache: 'no-store'
    }).then(function (r) {
      if (r.status === 401) { window.location.href = '/inbox/login'; return null; }
      if (!r.ok) { showReloadNotice(); return null; }
      return r.text();
    }).then(function (html) {
      if (html === null) { return; }
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.body.firstElementChild;
      if (!fresh) { showReloadNotice(); return; }
      // Keep the reply box where the eye is: whatever grows above it
      // scrolls the page by the same amount.
      var anchor = document.getElementById('reply');
      var top = anchor ? anchor.getBoundingClientRect().top : 0;
      var before = document.querySelectorAll('#thread .msg').length;
      ['case-meta', 'thread', 'timeline'].forEach(function (id) {
        var n = doc.getElementById(id), old = document.getElementById(id);
        if (n && old) { old.replaceWith(document.importNode(n, true)); }
      });
      var msgs = document.querySelectorAll('#thread .msg');
      for (var i = before; i < msgs.length; i++) { msgs[i].classList.add('live-flash'); }
      var active = document.activeElement;
      if (anchor && active && anchor.contains(active)) {
        window.scrollBy(0, anchor.getBoundingClientRect().top - top);
      }
      setBadge(fresh.getAttribute('data-unread'));
      refreshed++;
      body.setAttribute('data-case-refreshed', String(refreshed));
    }).catch(showReloadNotice).then(function () {
      caseBusy = false;
      if (caseAgain) { caseAgain = false; refreshCase(uid); }
    });
  }

  var es = new EventSource('/inbox/events');
  es.addEventListener('change', function (e) {
    var ev = {};
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    setBadge(ev.unread);
    if (live === 'queue') {
      refreshQueue();
    } else if (live === 'tip' && ev.tip === body.getAttribute('data-tip')) {
      refreshCase(ev.tip);
    }
  });
  es.addEventListener('expired', function () {
    es.close();
    window.location.href = '/inbox/login';
  });
  es.addEventListener('open', function () { body.setAttribute('data-live-ready', '1'); });
})();
