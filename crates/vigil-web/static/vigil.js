// Vigil's only script: progressive enhancement. Every page works without it.
(function () {
  'use strict';
  // Referral form: answering "yes" to immediate danger shows the emergency
  // instruction at once (without script it is shown after sending, before
  // anything else).
  var box = document.getElementById('emergency-now');
  var radios = document.querySelectorAll('input[name="immediate_danger"]');
  function update() {
    if (!box) return;
    var yes = document.querySelector('input[name="immediate_danger"][value="yes"]');
    var show = yes && yes.checked;
    box.hidden = !show;
    if (show) box.setAttribute('role', 'alert');
    // "Have the police been called?" is asked only then (without script
    // it is always shown, and answered only when it applies).
    var police = document.getElementById('police-called-group');
    if (police) police.hidden = !show;
  }
  for (var i = 0; i < radios.length; i++) radios[i].addEventListener('change', update);
  update();
  // Referral form: warn before the session ends (it ends after the server's
  // idle time with no request). Nothing is lost if it does: the server keeps
  // a form sent on an ended session for its author until they sign in.
  var form = document.getElementById('referral-form');
  var warning = document.getElementById('session-warning');
  var words = document.getElementById('session-warning-text');
  var idle = form ? parseInt(form.getAttribute('data-idle-minutes'), 10) : NaN;
  if (form && warning && words && idle > 5) {
    var started = Date.now();
    var tick = function () {
      var left = idle - Math.floor((Date.now() - started) / 60000);
      if (left > 5) return;
      warning.hidden = false;
      warning.setAttribute('role', 'alert');
      words.textContent = left > 0
        ? 'Your session will end in ' + left + (left === 1 ? ' minute' : ' minutes') +
          ' unless you send this referral. If it ends, nothing you typed is lost: press Send referral, sign in again, and it will be there to send.'
        : 'Your session has ended. Nothing you typed is lost: press Send referral, sign in again, and it will be there to send.';
    };
    setInterval(tick, 30000);
  }
  // The language check as the writer types (without script it runs when
  // the form is saved): a pause in typing sends the box's text to
  // /language/check with the form's anti-forgery token, and the phrases
  // the guidance warns against are shown under the box with why and what
  // to write instead. It never blocks sending. Words are set as text, never
  // as HTML.
  var boxes = document.querySelectorAll('textarea[data-language-check]');
  function showWording(area, region, findings) {
    while (region.firstChild) region.removeChild(region.firstChild);
    if (!findings.length) { region.hidden = true; return; }
    var lead = document.createElement('p');
    lead.className = 'v-language__lead';
    lead.textContent = 'About the words used (you can still send it as it is):';
    region.appendChild(lead);
    var list = document.createElement('ul');
    for (var k = 0; k < findings.length; k++) {
      var f = findings[k];
      var li = document.createElement('li');
      var phrase = document.createElement('strong');
      phrase.textContent = '\u201c' + f.phrase + '\u201d';
      li.appendChild(phrase);
      li.appendChild(document.createTextNode(': ' + f.why + ' '));
      var tryIt = document.createElement('span');
      tryIt.className = 'v-language__try';
      tryIt.textContent = 'Try: ' + f.suggestion + '.';
      li.appendChild(tryIt);
      list.appendChild(li);
    }
    region.appendChild(list);
    region.hidden = false;
  }
  function watch(area) {
    var region = document.getElementById(area.id + '-language');
    var form = area.form;
    var token = form && form.querySelector('input[name="csrf"]');
    if (!region || !token || !window.fetch) return;
    var timer = null, last = null;
    var run = function () {
      var text = area.value;
      if (text === last) return;
      last = text;
      var age = form.querySelector('[name="child_age"]');
      var body = 'csrf=' + encodeURIComponent(token.value) +
        '&text=' + encodeURIComponent(text) +
        (age && age.value ? '&age=' + encodeURIComponent(age.value) : '');
      fetch('/language/check', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j && area.value === text) showWording(area, region, j.findings || []); })
        .catch(function () {});
    };
    area.addEventListener('input', function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
    if (area.value) run();
  }
  for (var b = 0; b < boxes.length; b++) watch(boxes[b]);
  // The error summary takes focus so screen readers announce it first.
  var summary = document.querySelector('.v-error-summary');
  if (summary) summary.focus();
})();
