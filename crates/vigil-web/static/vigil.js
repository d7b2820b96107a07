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
  }
  for (var i = 0; i < radios.length; i++) radios[i].addEventListener('change', update);
  update();
  // The error summary takes focus so screen readers announce it first.
  var summary = document.querySelector('.v-error-summary');
  if (summary) summary.focus();
})();
