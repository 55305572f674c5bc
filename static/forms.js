/* Every page's forms: ask before a step that is hard to undo, and never send one form twice.

   - A form with data-confirm, or whose chosen <option> or pressed button carries data-confirm, asks that
     question first; "Cancel" sends nothing.
   - Once a form that changes something (POST) is on its way its submit buttons are disabled (after the browser has read the pressed
     button's name and value), and a second submit of the same page's form is ignored: a double click
     never records two penalties. Coming back to the page with the Back button enables them again.
   Forms driven by htmx (hx-post and the like) are left to htmx. Plain JavaScript, no build step. */
(function () {
  "use strict";

  function isHtmx(form) {
    return ["hx-post", "hx-put", "hx-patch", "hx-delete", "hx-get"].some(function (name) {
      return form.hasAttribute(name);
    });
  }

  function question(form, submitter) {
    if (submitter && submitter.getAttribute("data-confirm")) {
      return submitter.getAttribute("data-confirm");
    }
    var chosen = form.querySelector("option[data-confirm]:checked");
    if (chosen) {
      return chosen.getAttribute("data-confirm");
    }
    // The operator's release form asks from its own key handler (static/operator.js) as well as here.
    return form.getAttribute("data-confirm");
  }

  function buttons(form) {
    return Array.prototype.slice.call(
      form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]')
    );
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented || isHtmx(form)) {
      return;
    }
    if (form.getAttribute("data-submitting") === "true") {
      event.preventDefault();
      return;
    }
    var ask = question(form, event.submitter);
    if (ask && !window.confirm(ask)) {
      event.preventDefault();
      return;
    }
    if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
      return;  // a search or a filter: sending it twice changes nothing, and it may open a download
    }
    form.setAttribute("data-submitting", "true");
    window.setTimeout(function () {
      buttons(form).forEach(function (button) {
        button.disabled = true;
        button.setAttribute("data-disabled-on-submit", "true");
      });
    }, 0);
  });

  /* Back to a page kept in the browser's cache: its forms may be sent again. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll('form[data-submitting="true"]').forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll('[data-disabled-on-submit="true"]').forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("data-disabled-on-submit");
      });
    });
  });
})();
