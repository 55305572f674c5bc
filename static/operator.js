/* Operator workspace: keyboard shortcuts, questions that apply only to some answers, the lease countdown.
   Plain JavaScript, no build step. Every action also works with the mouse and without this script. */
(function () {
  "use strict";

  var page = document.querySelector("[data-operator-screen]");
  if (!page) {
    return;
  }
  var screen = page.getAttribute("data-operator-screen");
  var form = document.getElementById("call-form");

  /* True when a key press belongs to what the user is typing, so letter shortcuts must not fire. */
  function isTyping(element) {
    if (!element || element === document.body) {
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

  function clickShortcut(name) {
    var target = document.querySelector('[data-shortcut="' + name + '"]');
    if (target && !target.disabled) {
      target.click();
      return true;
    }
    return false;
  }

  /* The "?" help panel. */
  var help = document.getElementById("shortcut-help");
  var helpToggles = document.querySelectorAll("[data-shortcut-help-toggle]");
  function toggleHelp(show) {
    if (!help) {
      return;
    }
    var visible = typeof show === "boolean" ? show : help.hidden;
    help.hidden = !visible;
    if (visible) {
      help.scrollIntoView({ block: "nearest" });
    }
    helpToggles.forEach(function (button) {
      button.setAttribute("aria-expanded", visible ? "true" : "false");
    });
  }
  helpToggles.forEach(function (button) {
    button.addEventListener("click", function () {
      toggleHelp();
    });
  });
  document.querySelectorAll("[data-shortcut-help-close]").forEach(function (button) {
    button.addEventListener("click", function () {
      toggleHelp(false);
    });
  });

  /* ---- The call screen ---- */
  var questions = form ? Array.prototype.slice.call(form.querySelectorAll("fieldset[data-question]")) : [];

  function checkedValue(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) {
      return checked.value;
    }
    var field = form.querySelector('[name="' + name + '"]:not([type="radio"])');
    return field ? field.value : "";
  }

  /* Show a question only when the answer it depends on is given (survey.asked_when); a hidden question's
     fields are disabled, so they are not sent and the server's validation agrees. */
  function updateApplicable() {
    questions.forEach(function (question) {
      var field = question.getAttribute("data-when-field");
      if (!field) {
        return;
      }
      var applies = checkedValue(field) === question.getAttribute("data-when-value");
      question.hidden = !applies;
      question.disabled = !applies;
    });
  }

  function visibleQuestions() {
    return questions.filter(function (question) {
      return !question.hidden;
    });
  }

  function focusQuestion(question) {
    if (!question) {
      var outcome = form.querySelector('input[name="disposition"]:checked') ||
        form.querySelector('input[name="disposition"]');
      if (outcome) {
        outcome.focus();
      }
      return;
    }
    var target = question.querySelector("input:checked") || question.querySelector("input, textarea");
    if (target) {
      target.focus();
    }
  }

  function nextQuestionAfter(question) {
    var shown = visibleQuestions();
    return shown[shown.indexOf(question) + 1];
  }

  /* Show the appointment picker only for "call back later", and what the chosen outcome does. */
  var appointment = document.querySelector("[data-appointment]");
  var effect = document.querySelector("[data-disposition-effect]");
  function updateDisposition() {
    var chosen = form.querySelector('input[name="disposition"]:checked');
    var value = chosen ? chosen.value : "";
    if (appointment) {
      appointment.hidden = value !== "callback_requested";
      appointment.querySelector("input").disabled = value !== "callback_requested";
    }
    if (effect) {
      var labelFor = chosen ? form.querySelector('label[for="' + chosen.id + '"]') : null;
      effect.textContent = labelFor ? labelFor.getAttribute("title") : "";
    }
  }

  function chooseDisposition(input) {
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (input.value === "callback_requested" && appointment) {
      appointment.querySelector("input").focus();
    } else {
      input.focus();
    }
  }

  function submitCall() {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(form.querySelector('[data-shortcut="save"]'));
    } else {
      form.submit();
    }
  }

  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "disposition") {
        updateDisposition();
      } else {
        updateApplicable();
      }
    });
    form.querySelectorAll("[data-clear]").forEach(function (button) {
      button.addEventListener("click", function () {
        form.querySelectorAll('input[name="' + button.getAttribute("data-clear") + '"]').forEach(function (radio) {
          radio.checked = false;
        });
        updateApplicable();
      });
    });
    updateApplicable();
    updateDisposition();

    /* Focus: the first field in error, else the first question. */
    var firstError = page.getAttribute("data-first-error");
    var errorField = firstError ? form.querySelector('[name="' + firstError + '"]') : null;
    if (errorField && !errorField.disabled) {
      (form.querySelector('[name="' + firstError + '"]:checked') || errorField).focus();
    } else {
      focusQuestion(visibleQuestions()[0]);
    }
  }

  /* The release confirms first when asked from the keyboard, where Esc is easy to press by mistake. */
  function releaseFromKeyboard() {
    var release = document.getElementById("release-form");
    if (release && window.confirm(release.getAttribute("data-confirm"))) {
      release.submit();
    }
  }

  /* The lease countdown: minutes left, and a warning once the claim has run out. */
  var lease = document.querySelector("[data-lease-expires]");
  if (lease && lease.getAttribute("data-lease-expires")) {
    var expires = new Date(lease.getAttribute("data-lease-expires"));
    var minutes = lease.querySelector("[data-lease-minutes]");
    var shownAt = Date.now();
    var serverMinutes = minutes ? parseInt(minutes.textContent, 10) : 0;
    // Count down from what the server said (its clock may differ from this one).
    var tick = function () {
      var left = Math.max(serverMinutes - Math.floor((Date.now() - shownAt) / 60000), 0);
      if (minutes) {
        minutes.textContent = String(left);
      }
      if (left <= 0 || isNaN(expires.getTime())) {
        var expired = document.querySelector("[data-lease-expired]");
        if (expired && left <= 0) {
          expired.hidden = false;
        }
        return;
      }
      window.setTimeout(tick, 15000);
    };
    window.setTimeout(tick, 15000);
  }

  /* The reveal answers with the number or, when the claim is gone, with a refusal to show in its place. */
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403 || status === 404 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = isTyping(target);

    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitCall();
      return;
    }
    if (event.key === "Escape") {
      if (typing) {
        target.blur();
        return;
      }
      if (help && !help.hidden) {
        toggleHelp(false);
        return;
      }
      if (form) {
        event.preventDefault();
        releaseFromKeyboard();
      }
      return;
    }
    if (form && event.altKey && !event.ctrlKey && /^[1-9]$/.test(event.key || "")) {
      var byDigit = form.querySelector('input[name="disposition"][data-alt-key="' + event.key + '"]');
      if (byDigit) {
        event.preventDefault();
        chooseDisposition(byDigit);
      }
      return;
    }
    // Chrome on some layouts reports Alt+digit by code only.
    if (form && event.altKey && /^Digit[1-9]$/.test(event.code || "")) {
      var byCode = form.querySelector('input[name="disposition"][data-alt-key="' + event.code.slice(5) + '"]');
      if (byCode) {
        event.preventDefault();
        chooseDisposition(byCode);
      }
      return;
    }
    if (form && typing && event.key === "Enter" && target.tagName === "INPUT") {
      // In a date or number answer, Enter moves on instead of submitting the form half-filled.
      var question = target.closest("fieldset[data-question]");
      if (question) {
        event.preventDefault();
        focusQuestion(nextQuestionAfter(question));
      } else if (target.name === "callback_at") {
        event.preventDefault();
        var save = form.querySelector('[data-shortcut="save"]');
        if (save) {
          save.focus();
        }
      }
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }

    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (screen !== "call") {
      if (event.key === "n" || event.key === "N") {
        event.preventDefault();
        clickShortcut("n");
      }
      return;
    }
    if (event.key === "r" || event.key === "R") {
      event.preventDefault();
      clickShortcut("r");
      return;
    }
    if (!form) {
      return;
    }
    // A digit answers the question in focus with the option of that key, then moves to the next question.
    if (/^[0-9]$/.test(event.key)) {
      var current = target.closest ? target.closest("fieldset[data-question]") : null;
      if (!current) {
        return;
      }
      var option = current.querySelector('input[type="radio"][data-key="' + event.key + '"]');
      if (option) {
        event.preventDefault();
        option.checked = true;
        option.dispatchEvent(new Event("change", { bubbles: true }));
        focusQuestion(nextQuestionAfter(current));
      }
      return;
    }
    var byLetter = form.querySelector('input[name="disposition"][data-letter="' + event.key.toLowerCase() + '"]');
    if (byLetter && event.key.length === 1) {
      event.preventDefault();
      chooseDisposition(byLetter);
    }
  });
})();
