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
  // The error summary takes focus so screen readers announce it first.
  var summary = document.querySelector('.v-error-summary');
  if (summary) summary.focus();
})();
