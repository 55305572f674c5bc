/* The call timer on the call screen (issue 12): time since the operator took this callback, mm:ss,
   counted from the claim's start the server gives, so a reload keeps counting. No inline script (CSP). */
(function () {
  "use strict";

  var timer = document.querySelector("[data-call-timer]");
  if (!timer) {
    return;
  }
  var output = timer.querySelector("[data-call-elapsed]");
  var started = Date.parse(timer.getAttribute("data-started"));
  if (!output || isNaN(started)) {
    return;
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function show() {
    var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
    var hours = Math.floor(seconds / 3600);
    var text = pad(Math.floor((seconds % 3600) / 60)) + ":" + pad(seconds % 60);
    output.textContent = hours ? hours + ":" + text : text;
    output.setAttribute("datetime", "PT" + seconds + "S");
  }

  show();
  window.setInterval(show, 1000);
})();
