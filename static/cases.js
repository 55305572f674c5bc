/* Keyboard shortcuts of the supervisor pages.
 *
 * An element with data-shortcut="k" answers the key k: a field gets the focus, a link or a button is
 * clicked. A button with data-fill-first="field" first takes the user to that field while it is empty
 * (a note to close a case, the requirements of a letter). "?" shows the help. Keys typed into a field,
 * or pressed with Ctrl, Alt or Meta, are left alone.
 */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function fieldOf(button, name) {
    var form = button.form || document;
    return form.querySelector('[name="' + name + '"]');
  }

  function act(element) {
    var tag = element.tagName.toLowerCase();
    if (element.id === "print-letter") {
      window.print();
      return;
    }
    if (tag === "input" || tag === "textarea" || tag === "select") {
      element.focus();
      return;
    }
    var first = element.getAttribute("data-fill-first");
    if (first) {
      var field = fieldOf(element, first);
      if (field && !field.value.trim()) {
        field.focus();
        field.scrollIntoView({ block: "center" });
        return;
      }
    }
    element.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) {
      return;
    }
    var key = event.key;
    if (key === "?") {
      var help = document.getElementById("shortcut-help");
      if (help) {
        help.classList.toggle("shortcut-help-open");
        help.scrollIntoView({ block: "nearest" });
        event.preventDefault();
      }
      return;
    }
    if (key.length !== 1) {
      return;
    }
    var element = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (element && !element.disabled) {
      event.preventDefault();
      act(element);
    }
  });

  var printButton = document.getElementById("print-letter");
  if (printButton) {
    printButton.addEventListener("click", function () {
      window.print();
    });
  }
})();
