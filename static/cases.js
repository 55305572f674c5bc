/* The supervisor pages' own behaviour. Their keys (data-shortcut on each button, link or field, "?" for the
   help line) are handled by static/shortcuts.js, the one keyboard module of every page. */
(function () {
  "use strict";

  /* The letter's print button (also key p): print the letter. */
  var printButton = document.getElementById("print-letter");
  if (printButton) {
    printButton.addEventListener("click", function () {
      window.print();
    });
  }
})();
