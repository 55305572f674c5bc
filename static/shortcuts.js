/* Keyboard shortcuts, one module for every page that has them (the operator's and the supervisor's).

   The rules, the same everywhere:
   - An element with data-shortcut="k" answers the key k: a field gets the focus, a link or a button is
     clicked. A button with data-fill-first="field" first takes the user to that field while it is empty.
     data-shortcut="Escape" names what Esc does on the page (e.g. put the callback back in the queue).
   - Keys typed into a text, date, number or select field, or pressed with Ctrl, Alt or Meta, are not
     shortcuts (a page may still take Ctrl+Enter and Alt+digit through its own handler, see below).
   - Esc in a field, or anywhere inside a form (a chosen answer, an outcome button), only leaves it: focus
     goes back to the page. Only Esc outside every form (and with the help closed) does the page's Esc action.
   - "?" shows or hides the help: a panel (data-shortcut-panel, shown and hidden) or a help line (highlighted).
   A page adds its own keys with Shortcuts.add(function (event, context) { ...; return true if handled; });
   its handlers run first. Plain JavaScript, no build step. */
(function () {
  "use strict";

  var handlers = [];

  /* True when a key press belongs to what the user is typing, so letter and digit shortcuts must not fire. */
  function isTyping(element) {
    if (!element || element === document.body || !element.tagName) {
      return false;
    }
    if (element.isContentEditable || element.tagName === "TEXTAREA" || element.tagName === "SELECT") {
      return true;
    }
    if (element.tagName !== "INPUT") {
      return false;
    }
    var type = (element.getAttribute("type") || "text").toLowerCase();
    return ["radio", "checkbox", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function inForm(element) {
    return Boolean(element && element.closest && element.closest("form"));
  }

  function helpPanel() {
    return document.getElementById("shortcut-help");
  }

  function helpIsOpen() {
    var help = helpPanel();
    if (!help) {
      return false;
    }
    return help.hasAttribute("data-shortcut-panel") ? !help.hidden : help.classList.contains("shortcut-help-open");
  }

  function toggleHelp(show) {
    var help = helpPanel();
    if (!help) {
      return false;
    }
    var visible = typeof show === "boolean" ? show : !helpIsOpen();
    if (help.hasAttribute("data-shortcut-panel")) {
      help.hidden = !visible;
    } else {
      help.classList.toggle("shortcut-help-open", visible);
    }
    if (visible) {
      help.scrollIntoView({ block: "nearest" });
    }
    document.querySelectorAll("[data-shortcut-help-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", visible ? "true" : "false");
    });
    return true;
  }

  function fieldOf(button, name) {
    var form = button.form || document;
    return form.querySelector('[name="' + name + '"]');
  }

  /* Do what an element with data-shortcut stands for. */
  function act(element) {
    var tag = element.tagName.toLowerCase();
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

  function target(key) {
    var selector = '[data-shortcut="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]';
    var element = document.querySelector(selector);
    return element && !element.disabled ? element : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) {
      return;
    }
    var context = { typing: isTyping(event.target), inForm: inForm(event.target), target: event.target };
    for (var i = 0; i < handlers.length; i += 1) {
      if (handlers[i](event, context)) {
        return;
      }
    }
    if (event.key === "Escape") {
      if (context.typing || context.inForm) {
        if (event.target.blur) {
          event.target.blur();
        }
        return;
      }
      if (helpIsOpen() && helpPanel().hasAttribute("data-shortcut-panel")) {
        toggleHelp(false);
        return;
      }
      var escape = target("Escape");
      if (escape) {
        event.preventDefault();
        act(escape);
      }
      return;
    }
    if (context.typing || event.ctrlKey || event.altKey || event.metaKey) {
      return;
    }
    if (event.key === "?") {
      if (toggleHelp()) {
        event.preventDefault();
      }
      return;
    }
    if (!event.key || event.key.length !== 1) {
      return;
    }
    var element = target(event.key) || target(event.key.toLowerCase());
    if (element) {
      event.preventDefault();
      act(element);
    }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-shortcut-help-toggle]");
    if (toggle) {
      toggleHelp();
      return;
    }
    if (event.target.closest && event.target.closest("[data-shortcut-help-close]")) {
      toggleHelp(false);
    }
  });

  window.Shortcuts = {
    add: function (handler) {
      handlers.push(handler);
    },
    isTyping: isTyping,
    toggleHelp: toggleHelp,
  };
})();
