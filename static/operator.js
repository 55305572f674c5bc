/* Operator workspace: the call screen's own keys (through static/shortcuts.js, which has the rules every page
   shares), questions that apply only to some answers, the lease countdown, and a draft of the call screen
   kept in the tab (sessionStorage) so that a call typed while the session ran out is not lost.
   Plain JavaScript, no build step. Every action also works with the mouse and without this script. */
(function () {
  "use strict";

  var page = document.querySelector("[data-operator-screen]");
  if (!page) {
    return;
  }
  var screen = page.getAttribute("data-operator-screen");
  var form = document.getElementById("call-form");

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

  /* ---- The draft: what is typed on the call screen, kept in this tab until the call is saved ---- */
  var DRAFT_PREFIX = "callback-draft:";
  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null;  // storage switched off: no draft, everything else works
    }
  }

  function saveDraft() {
    var store = storage();
    var key = page.getAttribute("data-draft-key");
    if (!store || !key || !form) {
      return;
    }
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name === "csrf_token" || field.type === "submit" || field.type === "button") {
        return;
      }
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) {
          fields[field.name] = field.value;
        }
        return;
      }
      if (field.value) {
        fields[field.name] = field.value;
      }
    });
    try {
      store.setItem(DRAFT_PREFIX + key, JSON.stringify(fields));
    } catch (error) {
      /* storage full or refused: the form itself still works */
    }
  }

  /* Fill an untouched call screen from its draft (after signing in again, or a reload). */
  function restoreDraft() {
    var store = storage();
    var key = page.getAttribute("data-draft-key");
    if (!store || !key || !form || page.getAttribute("data-has-values") === "true") {
      return false;
    }
    var fields;
    try {
      fields = JSON.parse(store.getItem(DRAFT_PREFIX + key) || "null");
    } catch (error) {
      fields = null;
    }
    if (!fields) {
      return false;
    }
    Object.keys(fields).forEach(function (name) {
      form.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
        if (field.type === "radio" || field.type === "checkbox") {
          field.checked = field.value === fields[name];
        } else if (!field.value) {
          field.value = fields[name];
        }
      });
    });
    var notice = document.querySelector("[data-draft-restored]");
    if (notice) {
      notice.hidden = false;
    }
    return true;
  }

  function clearDraft(key) {
    var store = storage();
    if (store && key) {
      store.removeItem(DRAFT_PREFIX + key);
    }
  }

  /* The result page: the call is saved, its draft is no longer needed. */
  if (screen === "result") {
    clearDraft(page.getAttribute("data-draft-clear"));
  }
  var releaseForm = document.getElementById("release-form");
  if (releaseForm) {
    releaseForm.addEventListener("submit", function () {
      clearDraft(page.getAttribute("data-draft-key"));
    });
  }

  if (form) {
    restoreDraft();
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
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
        saveDraft();
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

  /* The call screen's own keys; the rules every page shares (?, Esc, data-shortcut) are in shortcuts.js. */
  if (form && window.Shortcuts) {
    window.Shortcuts.add(function (event, context) {
      var target = event.target;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submitCall();
        return true;
      }
      if (event.altKey && !event.ctrlKey && /^[1-9]$/.test(event.key || "")) {
        var byDigit = form.querySelector('input[name="disposition"][data-alt-key="' + event.key + '"]');
        if (byDigit) {
          event.preventDefault();
          chooseDisposition(byDigit);
        }
        return true;
      }
      // Chrome on some layouts reports Alt+digit by code only.
      if (event.altKey && /^Digit[1-9]$/.test(event.code || "")) {
        var byCode = form.querySelector('input[name="disposition"][data-alt-key="' + event.code.slice(5) + '"]');
        if (byCode) {
          event.preventDefault();
          chooseDisposition(byCode);
        }
        return true;
      }
      if (context.typing && event.key === "Enter" && target.tagName === "INPUT") {
        // In a date or number answer, Enter moves on instead of submitting the form half-filled.
        var question = target.closest("fieldset[data-question]");
        if (question) {
          event.preventDefault();
          focusQuestion(nextQuestionAfter(question));
          return true;
        }
        if (target.name === "callback_at") {
          event.preventDefault();
          var save = form.querySelector('[data-shortcut="save"]');
          if (save) {
            save.focus();
          }
          return true;
        }
        return false;
      }
      if (context.typing || event.ctrlKey || event.metaKey || event.altKey) {
        return false;
      }
      // A digit answers the question in focus with the option of that key, then moves to the next question.
      if (/^[0-9]$/.test(event.key)) {
        var current = target.closest ? target.closest("fieldset[data-question]") : null;
        var option = current ? current.querySelector('input[type="radio"][data-key="' + event.key + '"]') : null;
        if (option) {
          event.preventDefault();
          option.checked = true;
          option.dispatchEvent(new Event("change", { bubbles: true }));
          focusQuestion(nextQuestionAfter(current));
          return true;
        }
        return false;
      }
      if (event.key.length !== 1) {
        return false;
      }
      var byLetter = form.querySelector('input[name="disposition"][data-letter="' + event.key.toLowerCase() + '"]');
      if (byLetter) {
        event.preventDefault();
        chooseDisposition(byLetter);
        return true;
      }
      return false;
    });
  }
})();
