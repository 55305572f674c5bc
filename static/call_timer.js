/* The call timer on the call screen (issue 12): time since the operator took this callback, mm:ss.
   The server gives the seconds already elapsed by its own clock, so a reload keeps counting and a
   wrong clock on the desk does not matter. No inline script (CSP). */
(function () {
  "use strict";

  var timer = document.querySelector("[data-call-timer]");
  if (!timer) {
    return;
  }
  var output = timer.querySelector("[data-call-elapsed]");
  var elapsed = parseInt(timer.getAttribute("data-elapsed"), 10);
  if (!output || isNaN(elapsed)) {
    return;
  }
  var started = Date.now() - elapsed * 1000;

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
